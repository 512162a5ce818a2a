'use strict';
/* Russian and English UI text. The choice: ?lang=, then the saved toggle, then the browser's languages. */
window.SB = window.SB || {};
SB.i18n = (function () {
  const texts = {
    en: {
      'login.username': 'User name', 'login.password': 'Password', 'login.submit': 'Sign in',
      'login.failed': 'Wrong user name or password.', 'login.loggedOut': 'You have signed out.',
      'nav.workspace': 'Workspace', 'nav.dashboard': 'Dashboard', 'nav.logout': 'Sign out',
      'view.mine': 'Mine', 'view.unassigned': 'Unassigned', 'view.open': 'All open', 'view.risk': 'At risk / breached', 'view.resolved': 'Resolved',
      'queue.search': 'Search: text, contact, login, project', 'queue.empty': 'No conversations here.',
      'conv.none': 'Pick a conversation on the left (j / k to move).',
      'conv.assignMe': 'Assign to me', 'conv.unassign': 'Unassign', 'conv.resolve': 'Resolve', 'conv.reopen': 'Reopen',
      'conv.pending': 'Pending', 'conv.snooze': 'Snooze 1 h', 'conv.priority': 'Priority', 'conv.status': 'Status', 'conv.assignee': 'Assignee',
      'conv.nobody': 'nobody', 'reply.placeholder': 'Reply to the customer (Ctrl+Enter sends)',
      'note.placeholder': 'Internal note for colleagues, @name mentions (Ctrl+Enter saves)',
      'reply.send': 'Send', 'note.save': 'Add note', 'reply.modeReply': 'Reply', 'reply.modeNote': 'Note',
      'reply.suggested': 'Suggested answer', 'reply.insert': 'Insert', 'reply.canned': 'Canned answers',
      'msg.note': 'internal note', 'msg.call': 'Call', 'msg.edited': 'edited', 'msg.attachment': 'attachment',
      'call.inbound': 'Inbound call', 'call.outbound': 'Outbound call', 'call.answered': 'answered', 'call.ringing': 'ringing',
      'call.no-answer': 'missed', 'call.busy': 'busy', 'call.failed': 'failed', 'call.canceled': 'hung up while ringing',
      'call.voicemail': 'voicemail', 'call.by': 'agent', 'call.recording': 'recording', 'call.callBack': 'call back',
      'msg.preview': 'preview', 'msg.original': 'show quoted text', 'msg.warnings': 'read with warnings',
      'status.pending': 'pending', 'status.sent': 'sent', 'status.failed': 'failed', 'status.delivered': 'delivered',
      'status.read': 'read', 'status.open': 'open', 'status.snoozed': 'snoozed', 'status.resolved': 'resolved',
      'contact.title': 'Contact', 'contact.identities': 'Channels', 'contact.login': 'Login',
      'contact.project': 'Project', 'contact.unreachable': 'unreachable', 'contact.past': 'Other conversations',
      'presence.viewing': 'is viewing', 'presence.typing': 'is typing…',
      'sla.first': 'first response', 'sla.next': 'next response', 'sla.resolution': 'resolution',
      'sla.breached': 'breached', 'sla.met': 'met', 'sla.none': 'no SLA clock running',
      'live.on': 'live', 'live.off': 'reconnecting…',
      'keys.help': 'j/k move · r reply · n note · e resolve · a assign to me · t tag · m merge · / search',
      'dash.title': 'Operators\' dashboard', 'dash.open': 'Open', 'dash.unassigned': 'Unassigned',
      'dash.waiting': 'Waiting for us', 'dash.atRisk': 'At risk (< 30 min)', 'dash.breached': 'Breached now',
      'dash.backlogAge': 'Backlog by age (since the first customer message)', 'dash.rateChannel': 'Breach rate by channel (7 days)',
      'dash.rateAgent': 'Breach rate by agent (7 days)', 'dash.sla': 'First response and resolution, p50 / p90 by day (minutes)',
      'dash.slaMissing': 'SLA reports are not available on this server yet.', 'dash.slaEmpty': 'No SLA data for this period.',
      'dash.breachRate': 'Breach rate by channel (7 days)', 'dash.count': 'conversations', 'dash.unassignedAgent': '(unassigned)',
      'dash.age.h1': '< 1 h', 'dash.age.h4': '1–4 h', 'dash.age.d1': '4–24 h', 'dash.age.d3': '1–3 days', 'dash.age.more': '> 3 days',
      'filter.team': 'Team', 'filter.tag': 'Tag', 'filter.priority': 'Priority', 'filter.sla': 'SLA',
      'filter.anyTeam': 'All teams', 'filter.anyTag': 'All tags', 'filter.anyPriority': 'Any priority', 'filter.anySla': 'Any SLA state',
      'sla.state.breached': 'SLA breached', 'sla.state.at_risk': 'SLA at risk', 'sla.state.ok': 'SLA on track',
      'priority.urgent': 'urgent', 'priority.high': 'high', 'priority.normal': 'normal', 'priority.low': 'low',
      'view.breached': 'Breached', 'status.merged': 'merged',
      'tag.add': 'Add tag (Enter)', 'tag.remove': 'Remove tag',
      'conv.merge': 'Merge into…', 'merge.into': 'Merge this conversation into', 'merge.confirm': 'Merge', 'merge.cancel': 'Cancel',
      'merge.none': 'This contact has no other open conversation to merge into.',
      'merge.redirected': 'That conversation was merged into this one.'
    },
    ru: {
      'login.username': 'Имя пользователя', 'login.password': 'Пароль', 'login.submit': 'Войти',
      'login.failed': 'Неверное имя пользователя или пароль.', 'login.loggedOut': 'Вы вышли из системы.',
      'nav.workspace': 'Рабочее место', 'nav.dashboard': 'Дашборд', 'nav.logout': 'Выйти',
      'view.mine': 'Мои', 'view.unassigned': 'Без исполнителя', 'view.open': 'Все открытые', 'view.risk': 'Под угрозой / нарушено', 'view.resolved': 'Решённые',
      'queue.search': 'Поиск: текст, контакт, логин, проект', 'queue.empty': 'Здесь нет обращений.',
      'conv.none': 'Выберите обращение слева (j / k — перемещение).',
      'conv.assignMe': 'Взять себе', 'conv.unassign': 'Снять исполнителя', 'conv.resolve': 'Решено', 'conv.reopen': 'Открыть снова',
      'conv.pending': 'Ожидание', 'conv.snooze': 'Отложить на 1 ч', 'conv.priority': 'Приоритет', 'conv.status': 'Статус', 'conv.assignee': 'Исполнитель',
      'conv.nobody': 'никто', 'reply.placeholder': 'Ответ клиенту (Ctrl+Enter — отправить)',
      'note.placeholder': 'Внутренняя заметка для коллег, @имя — упоминание (Ctrl+Enter — сохранить)',
      'reply.send': 'Отправить', 'note.save': 'Добавить заметку', 'reply.modeReply': 'Ответ', 'reply.modeNote': 'Заметка',
      'reply.suggested': 'Предлагаемый ответ', 'reply.insert': 'Вставить', 'reply.canned': 'Шаблоны ответов',
      'msg.note': 'внутренняя заметка', 'msg.call': 'Звонок', 'msg.edited': 'изменено', 'msg.attachment': 'вложение',
      'call.inbound': 'Входящий звонок', 'call.outbound': 'Исходящий звонок', 'call.answered': 'отвечен', 'call.ringing': 'звонит',
      'call.no-answer': 'пропущен', 'call.busy': 'занято', 'call.failed': 'не удался', 'call.canceled': 'сброшен до ответа',
      'call.voicemail': 'голосовая почта', 'call.by': 'агент', 'call.recording': 'запись', 'call.callBack': 'перезвонить',
      'msg.preview': 'просмотр', 'msg.original': 'показать цитату', 'msg.warnings': 'прочитано с предупреждениями',
      'status.pending': 'в очереди', 'status.sent': 'отправлено', 'status.failed': 'ошибка', 'status.delivered': 'доставлено',
      'status.read': 'прочитано', 'status.open': 'открыто', 'status.snoozed': 'отложено', 'status.resolved': 'решено',
      'contact.title': 'Контакт', 'contact.identities': 'Каналы', 'contact.login': 'Логин',
      'contact.project': 'Проект', 'contact.unreachable': 'недоступен', 'contact.past': 'Другие обращения',
      'presence.viewing': 'смотрит', 'presence.typing': 'печатает…',
      'sla.first': 'первый ответ', 'sla.next': 'следующий ответ', 'sla.resolution': 'решение',
      'sla.breached': 'нарушено', 'sla.met': 'выполнено', 'sla.none': 'таймеры SLA не идут',
      'live.on': 'онлайн', 'live.off': 'переподключение…',
      'keys.help': 'j/k — перемещение · r — ответ · n — заметка · e — решено · a — взять себе · t — метка · m — объединить · / — поиск',
      'dash.title': 'Дашборд операторов', 'dash.open': 'Открыто', 'dash.unassigned': 'Без исполнителя',
      'dash.waiting': 'Ждут ответа', 'dash.atRisk': 'Под угрозой (< 30 мин)', 'dash.breached': 'Нарушено сейчас',
      'dash.backlogAge': 'Очередь по возрасту (с первого сообщения клиента)', 'dash.rateChannel': 'Доля нарушений по каналам (7 дней)',
      'dash.rateAgent': 'Доля нарушений по агентам (7 дней)', 'dash.sla': 'Первый ответ и решение, p50 / p90 по дням (минуты)',
      'dash.slaMissing': 'Отчёты SLA на этом сервере пока недоступны.', 'dash.slaEmpty': 'Нет данных SLA за период.',
      'dash.breachRate': 'Доля нарушений по каналам (7 дней)', 'dash.count': 'обращений', 'dash.unassignedAgent': '(без исполнителя)',
      'dash.age.h1': '< 1 ч', 'dash.age.h4': '1–4 ч', 'dash.age.d1': '4–24 ч', 'dash.age.d3': '1–3 дня', 'dash.age.more': '> 3 дней',
      'filter.team': 'Команда', 'filter.tag': 'Метка', 'filter.priority': 'Приоритет', 'filter.sla': 'SLA',
      'filter.anyTeam': 'Все команды', 'filter.anyTag': 'Все метки', 'filter.anyPriority': 'Любой приоритет', 'filter.anySla': 'Любое состояние SLA',
      'sla.state.breached': 'SLA нарушено', 'sla.state.at_risk': 'SLA под угрозой', 'sla.state.ok': 'SLA в норме',
      'priority.urgent': 'срочный', 'priority.high': 'высокий', 'priority.normal': 'обычный', 'priority.low': 'низкий',
      'view.breached': 'Нарушено', 'status.merged': 'объединено',
      'tag.add': 'Добавить метку (Enter)', 'tag.remove': 'Убрать метку',
      'conv.merge': 'Объединить с…', 'merge.into': 'Объединить это обращение с', 'merge.confirm': 'Объединить', 'merge.cancel': 'Отмена',
      'merge.none': 'У этого контакта нет других открытых обращений для объединения.',
      'merge.redirected': 'То обращение объединено с этим.'
    }
  };
  function pick() {
    const fromUrl = new URLSearchParams(location.search).get('lang');
    if (fromUrl && texts[fromUrl]) { localStorage.setItem('sb.lang', fromUrl); return fromUrl; }
    const saved = localStorage.getItem('sb.lang');
    if (saved && texts[saved]) return saved;
    const langs = navigator.languages || [navigator.language || 'en'];
    for (const l of langs) { const base = String(l).slice(0, 2).toLowerCase(); if (texts[base]) return base; }
    return 'en';
  }
  let lang = pick();
  function t(key) { return (texts[lang] && texts[lang][key]) || texts.en[key] || key; }
  function apply(root) {
    document.documentElement.lang = lang;
    root.querySelectorAll('[data-i18n]').forEach(el => { el.textContent = t(el.dataset.i18n); });
    root.querySelectorAll('[data-i18n-placeholder]').forEach(el => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    root.querySelectorAll('[data-i18n-title]').forEach(el => { el.title = t(el.dataset.i18nTitle); });
  }
  function set(l) { if (texts[l]) { lang = l; localStorage.setItem('sb.lang', l); } }
  function bindSwitch(root, onChange) {
    root.querySelectorAll('[data-lang]').forEach(b => b.addEventListener('click', () => {
      set(b.dataset.lang); apply(document); if (onChange) onChange();
    }));
  }
  return { t, apply, set, bindSwitch, get lang() { return lang; } };
})();
