'use strict';
/* The agents' workspace: queue, conversation timeline, contact panel; live over SSE. */
(function () {
  const { el, api, t, clear } = { el: SB.el, api: SB.api, t: SB.i18n.t, clear: SB.clear };
  const $ = id => document.getElementById(id);
  const state = {
    view: localStorage.getItem('sb.view') || 'open', q: '', items: [], current: null, detail: null,
    files: new Set(), mode: 'reply', suggestion: null, canned: [], presence: {}, roles: [],
    filters: JSON.parse(localStorage.getItem('sb.filters') || '{}'), teams: [], tags: [], notice: null
  };
  window.__sbLoadedAt = window.__sbLoadedAt || Date.now();

  const VIEWS = {
    mine: () => 'assignee=' + encodeURIComponent(SB.me) + '&status=open,pending,snoozed',
    unassigned: () => 'assignee=none&status=open,pending',
    open: () => 'status=open,pending',
    risk: () => 'status=open,pending&sla=breached,at_risk',
    resolved: () => 'status=resolved'
  };
  const VIEW_FILTERS = {};
  /* the queue's filter controls: each a server-side parameter of GET /api/conversations */
  const FILTERS = { team: 'team', tag: 'tag', priority: 'priority', sla: 'sla' };
  function filterQuery() {
    return Object.keys(FILTERS).filter(k => state.filters[k])
      .map(k => '&' + FILTERS[k] + '=' + encodeURIComponent(state.filters[k])).join('');
  }
  function fillSelect(sel, anyKey, options, current) {
    clear(sel).appendChild(el('option', { value: '', text: t(anyKey) }));
    for (const o of options) sel.appendChild(el('option', { value: o.value, text: o.label, selected: o.value === current }));
    sel.value = current || '';
    sel.classList.toggle('active', !!current);
  }
  function renderFilters() {
    fillSelect($('filter-team'), 'filter.anyTeam', state.teams.map(n => ({ value: n, label: n })), state.filters.team);
    $('filter-team').hidden = !state.teams.length;
    const tags = state.tags.slice();
    if (state.filters.tag && !tags.includes(state.filters.tag)) tags.unshift(state.filters.tag);
    fillSelect($('filter-tag'), 'filter.anyTag', tags.map(x => ({ value: x, label: '#' + x })), state.filters.tag);
    fillSelect($('filter-priority'), 'filter.anyPriority',
      ['urgent', 'high', 'normal', 'low'].map(x => ({ value: x, label: t('priority.' + x) })), state.filters.priority);
    fillSelect($('filter-sla'), 'filter.anySla',
      ['breached', 'at_risk', 'ok'].map(x => ({ value: x, label: t('sla.state.' + x) })), state.filters.sla);
    const dl = clear($('tag-suggestions'));
    for (const x of state.tags) dl.appendChild(el('option', { value: x }));
  }
  async function loadFilterOptions() {
    try { state.teams = (await api('GET', '/api/teams')).map(x => x.name); } catch (e) { state.teams = []; }
    try { state.tags = (await api('GET', '/api/tags')).map(x => x.tag); } catch (e) { state.tags = []; }
    if (state.filters.team && !state.teams.includes(state.filters.team)) delete state.filters.team;
    renderFilters();
  }
  function setFilter(key, value) {
    if (value) state.filters[key] = value; else delete state.filters[key];
    localStorage.setItem('sb.filters', JSON.stringify(state.filters));
    renderFilters(); loadQueue().catch(() => {});
  }

  function debounce(fn, ms) { let h; return (...a) => { clearTimeout(h); h = setTimeout(() => fn(...a), ms); }; }

  // ------------------------------------------------------------------ views and queue
  async function loadViews() {
    let counts = {};
    try { (await api('GET', '/api/views')).forEach(v => { counts[v.name] = v.count; }); } catch (e) { /* counts are optional */ }
    const nav = $('views');
    for (const name of Object.keys(VIEWS)) {
      // buttons are made once and updated in place: a redraw never pulls one from under a click
      let b = $('view-' + name);
      if (!b) {
        b = nav.appendChild(el('button', { type: 'button', class: 'view', id: 'view-' + name,
          onclick: () => { state.view = name; localStorage.setItem('sb.view', name); loadViews(); loadQueue(); } }));
      }
      b.classList.toggle('active', state.view === name);
      clear(b).append(t('view.' + name));
      if (counts[name] !== undefined) b.appendChild(el('span', { class: 'count', text: String(counts[name]) }));
    }
  }

  async function loadQueue() {
    if (!VIEWS[state.view]) state.view = 'open';
    let path = '/api/conversations?limit=' + (VIEW_FILTERS[state.view] ? 200 : 100) + '&' + VIEWS[state.view]();
    if (state.q) path += '&q=' + encodeURIComponent(state.q);
    path += filterQuery();
    let page;
    try { page = await api('GET', path); } catch (e) {
      // a filter the server no longer knows (a removed team): drop the filters and try again
      if (e.status === 400 && Object.keys(state.filters).length) { state.filters = {}; localStorage.removeItem('sb.filters'); renderFilters(); return loadQueue(); }
      throw e;
    }
    const keep = VIEW_FILTERS[state.view] || (() => true);
    // the server's order (soonest SLA due first, then newest activity), over the whole queue, not just this page
    state.items = page.items.filter(keep);
    renderQueue();
  }
  const reloadQueue = debounce(() => { loadQueue().catch(() => {}); loadViews(); }, 250);

  function renderQueue() {
    const list = clear($('queue-list'));
    if (!state.items.length) list.appendChild(el('li', { class: 'empty', text: t('queue.empty') }));
    const now = Date.now();
    for (const c of state.items) {
      const sla = SB.slaState(c.sla, now);
      list.appendChild(el('li', { class: 'queue-item' + (c.id === state.current ? ' selected' : ''), dataset: { id: c.id },
        onclick: () => open(c.id) },
        SB.channelIcon(c.channel),
        el('div', { class: 'qi-main' },
          el('div', { class: 'qi-top' }, el('span', { class: 'qi-contact', text: (c.contact && c.contact.displayName) || '—' }),
            el('span', { class: 'qi-time', text: SB.time(c.lastMessageAt) })),
          el('div', { class: 'qi-preview', text: c.preview || c.subject || '' }),
          el('div', { class: 'qi-bottom' },
            el('span', { class: 'badge status-' + c.status, text: t('status.' + c.status) }),
            c.assignee ? el('span', { class: 'qi-assignee', text: '@' + c.assignee }) : null,
            (c.tags || []).length ? el('span', { class: 'chips qi-tags' }, c.tags.map(x => el('span', { class: 'chip', text: x }))) : null,
            sla.state === 'none' ? null : el('span', { class: 'sla sla-' + sla.state, dataset: { due: sla.due || '' },
              title: t(metricKey(sla.metric)), text: SB.duration(sla.left) })))));
    }
  }
  function metricKey(m) { return m === 'firstResponse' ? 'sla.first' : m === 'nextResponse' ? 'sla.next' : 'sla.resolution'; }

  // ------------------------------------------------------------------ one conversation
  async function open(id) {
    if (state.current && state.current !== id) beat('left', state.current);
    if (!state.keepNotice) state.notice = null;
    state.keepNotice = false;
    $('merge-panel').hidden = true;
    state.current = id;
    document.querySelectorAll('.queue-item').forEach(li => li.classList.toggle('selected', li.dataset.id === id));
    $('reply-text').value = '';
    await loadDetail();
    beat('viewing');
    loadSuggestion();
  }

  async function loadDetail() {
    const id = state.current;
    if (!id) return;
    const [detail, files] = await Promise.all([api('GET', '/api/conversations/' + encodeURIComponent(id)),
      api('GET', '/api/conversations/' + encodeURIComponent(id) + '/files').catch(() => [])]);
    if (state.current !== id) return;
    if (detail.mergedInto) {
      // merged: its messages live on in the other conversation, which opens instead
      state.notice = t('merge.redirected'); state.keepNotice = true;
      return open(detail.mergedInto);
    }
    state.detail = detail; state.files = new Set(files || []);
    renderDetail();
    loadContact(detail);
  }
  const reloadDetail = debounce(() => loadDetail().catch(() => {}), 150);

  function renderDetail() {
    const c = state.detail;
    $('conversation-empty').hidden = true; $('conversation-body').hidden = false;
    clear($('conv-channel')).appendChild(SB.channelIcon(c.channel));
    // chats have no subject (the API then gives the latest preview): head with the customer's first words instead
    const first = c.messages.find(m => m.direction === 'inbound' && m.text);
    const heading = c.subject && c.subject !== c.preview ? c.subject : first ? first.text : (c.subject || '');
    $('conv-subject').textContent = heading.length > 120 ? heading.slice(0, 119) + '…' : heading;
    $('conv-status').textContent = t('status.' + c.status); $('conv-status').className = 'badge status-' + c.status;
    $('conv-status').dataset.status = c.status;
    $('conv-priority').value = c.priority || 'normal';
    $('conv-assignee').textContent = c.assignee || t('conv.nobody');
    $('act-assign').textContent = c.assignee === SB.me ? t('conv.unassign') : t('conv.assignMe');
    $('act-resolve').textContent = c.status === 'resolved' ? t('conv.reopen') : t('conv.resolve');
    renderSla();
    renderTags();
    $('conv-notice').hidden = !state.notice; $('conv-notice').textContent = state.notice || '';
    const tl = clear($('timeline'));
    for (const m of c.messages) tl.appendChild(renderMessage(m));
    tl.scrollTop = tl.scrollHeight;
    renderPresence();
  }

  function renderTags() {
    const box = clear($('conv-tags'));
    for (const tag of (state.detail.tags || [])) {
      box.appendChild(el('span', { class: 'chip', dataset: { tag } }, tag,
        el('button', { type: 'button', class: 'chip-remove', title: t('tag.remove'), 'aria-label': t('tag.remove'), text: '×',
          onclick: () => patch({ removeTags: [tag] }).then(loadFilterOptions) })));
    }
  }

  function renderSla() {
    const c = state.detail; if (!c) return;
    const s = SB.slaState(c.sla, Date.now());
    const box = $('conv-sla');
    box.className = 'sla sla-' + s.state;
    box.textContent = s.state === 'none' ? t('sla.none') : t(metricKey(s.metric)) + ': ' + SB.duration(s.left);
  }

  function renderMessage(m) {
    const kind = m.kind || 'message';
    const cls = 'msg msg-' + m.direction + ' kind-' + kind;
    const head = el('div', { class: 'msg-head' },
      el('span', { class: 'msg-author', text: m.author || (m.direction === 'inbound' ? '' : '') }),
      SB.channelIcon(m.channel),
      el('time', { datetime: m.sentAt, text: SB.time(m.sentAt) }),
      kind === 'note' ? el('span', { class: 'badge note', text: t('msg.note') }) : null,
      m.editedAt ? el('span', { class: 'edited', title: (m.history || []).join('\n'), text: t('msg.edited') }) : null);
    const body = kind === 'call' ? renderCall(m) : el('div', { class: 'msg-text', text: m.text || '' });
    const meta = m.meta || {};
    // an email's quoted history and signature, cut from the text above, one click away (ADR 0101)
    const original = kind !== 'call' && meta.fullText
      ? el('details', { class: 'msg-original' }, el('summary', { text: t('msg.original') }),
        el('div', { class: 'msg-text', text: meta.fullText }))
      : null;
    const warnings = meta.warnings ? el('div', { class: 'msg-warnings', text: '⚠ ' + t('msg.warnings') + ': ' + meta.warnings }) : null;
    const atts = (m.attachments || []).map(a => {
      const label = (a.name || a.kind || t('msg.attachment')) + (a.size ? ' (' + Math.max(1, Math.round(a.size / 1024)) + ' KB)' : '');
      if (!(a.ref && state.files.has(a.ref))) return el('span', { class: 'attachment', text: '▪ ' + label });
      const href = '/api/files/' + encodeURIComponent(a.ref);
      // images preview inline (an <img> never runs script, even for SVG); everything else downloads
      const preview = /^image\/(png|jpe?g|gif|webp)$/i.test(a.contentType || '')
        ? el('img', { class: 'thumb', src: href, alt: a.name || '' }) : null;
      return el('a', { class: 'attachment', href, download: a.name || '' }, preview, '↓ ' + label);
    });
    const status = m.direction === 'outbound' && kind !== 'note' && m.deliveryStatus
      ? el('span', { class: 'delivery delivery-' + m.deliveryStatus, dataset: { status: m.deliveryStatus },
        title: m.failureReason || '', text: t('status.' + m.deliveryStatus) + (m.failureReason ? ': ' + m.failureReason : '') })
      : null;
    return el('li', { class: cls, dataset: { id: m.id } }, head, body, original, warnings,
      atts.length ? el('div', { class: 'atts' }, atts) : null, status);
  }

  /* A call entry: direction and outcome, duration, agent, recording, from the call's details (meta, ADR 0120). */
  function renderCall(m) {
    const meta = m.meta || {};
    if (!meta.direction) return el('div', { class: 'msg-text call', text: '☎ ' + t('msg.call') + (m.text ? ': ' + m.text : '') });
    const d = meta.disposition || 'ringing';
    const missed = meta.direction === 'inbound' && d !== 'answered' && d !== 'ringing';
    const secs = meta.durationSeconds != null ? Number(meta.durationSeconds) : null;
    return el('div', { class: 'msg-text call' + (missed ? ' call-missed' : ''), dataset: { disposition: d, direction: meta.direction } },
      el('span', { class: 'call-title', text: '☎ ' + t('call.' + meta.direction) + ' · ' + t('call.' + d) }),
      meta.customer ? el('span', { class: 'call-party', text: ' ' + meta.customer }) : null,
      secs != null ? el('span', { class: 'call-duration', text: ' · ' + (secs < 60 ? secs + ' s' : SB.duration(secs)) }) : null,
      meta.agent ? el('span', { class: 'call-agent', text: ' · ' + t('call.by') + ' ' + meta.agent }) : null,
      missed ? el('span', { class: 'badge warn call-back', text: t('call.callBack') }) : null,
      meta.recordingUrl && /^https?:\/\//i.test(meta.recordingUrl)
        ? el('a', { class: 'call-recording', href: meta.recordingUrl, target: '_blank', rel: 'noopener noreferrer', text: ' ▶ ' + t('call.recording') })
        : null);
  }

  async function loadContact(c) {
    const box = $('contact');
    const contactId = c.contact && c.contact.id;
    let contact = null;
    if (contactId) { try { contact = await api('GET', '/api/contacts/' + encodeURIComponent(contactId)); } catch (e) { /* shown without */ } }
    if (state.current !== c.id) return;
    clear(box);
    box.appendChild(el('h3', { text: t('contact.title') }));
    box.appendChild(el('div', { class: 'contact-name', text: (contact && contact.displayName) || (c.contact && c.contact.displayName) || '—' }));
    if (contact && contact.unreachable) box.appendChild(el('div', { class: 'badge warn', text: t('contact.unreachable') }));
    const dl = el('dl');
    const login = c.login || (contact && contact.login); const project = c.project || (contact && contact.project);
    if (login) dl.append(el('dt', { text: t('contact.login') }), el('dd', { class: 'contact-login', text: login }));
    if (project) dl.append(el('dt', { text: t('contact.project') }), el('dd', { class: 'contact-project', text: project }));
    box.appendChild(dl);
    if (contact && contact.identities && contact.identities.length) {
      box.appendChild(el('h4', { text: t('contact.identities') }));
      box.appendChild(el('ul', { class: 'identities' }, contact.identities.map(i =>
        el('li', {}, SB.channelIcon(i.type === 'email' ? 'email' : i.type), ' ', el('span', { text: i.value })))));
    }
    const name = (contact && contact.displayName) || (c.contact && c.contact.displayName);
    if (name) {
      try {
        const others = (await api('GET', '/api/conversations?limit=20&q=' + encodeURIComponent(name))).items
          .filter(o => o.id !== c.id && o.contact && o.contact.id === contactId);
        if (others.length && state.current === c.id) {
          box.appendChild(el('h4', { text: t('contact.past') }));
          box.appendChild(el('ul', { class: 'past' }, others.map(o => el('li', { onclick: () => open(o.id) },
            SB.channelIcon(o.channel), ' ', el('span', { text: (o.subject || o.preview || '') }), ' ',
            el('span', { class: 'badge status-' + o.status, text: t('status.' + o.status) })))));
        }
      } catch (e) { /* optional */ }
    }
  }

  async function loadSuggestion() {
    const id = state.current;
    let s = null;
    try { s = await api('GET', '/api/conversations/' + encodeURIComponent(id) + '/suggestion'); } catch (e) { s = null; }
    if (state.current !== id) return;
    state.suggestion = s;
    $('suggestion').hidden = !s;
    if (s) $('suggestion-title').textContent = s.title;
  }

  async function loadCanned() {
    try { state.canned = await api('GET', '/api/canned'); } catch (e) { state.canned = []; }
    const sel = $('canned');
    while (sel.options.length > 1) sel.remove(1);
    for (const c of state.canned) sel.appendChild(el('option', { value: c.id, text: '[' + c.lang + '] ' + c.title }));
  }

  function insert(text) {
    const ta = $('reply-text');
    ta.value = ta.value ? ta.value + '\n' + text : text;
    setMode('reply'); ta.focus();
  }

  // ------------------------------------------------------------------ actions
  function setMode(mode) {
    state.mode = mode;
    $('mode-reply').classList.toggle('active', mode === 'reply');
    $('mode-note').classList.toggle('active', mode === 'note');
    $('reply-text').dataset.i18nPlaceholder = mode === 'note' ? 'note.placeholder' : 'reply.placeholder';
    $('reply-text').placeholder = t($('reply-text').dataset.i18nPlaceholder);
    $('reply-text').classList.toggle('note-mode', mode === 'note');
    $('send').textContent = t(mode === 'note' ? 'note.save' : 'reply.send');
  }

  async function send() {
    const text = $('reply-text').value.trim();
    if (!text || !state.current) return;
    $('send').disabled = true; $('reply-error').textContent = '';
    try {
      await api('POST', '/api/conversations/' + encodeURIComponent(state.current) + (state.mode === 'note' ? '/notes' : '/messages'), { text });
      $('reply-text').value = '';
      await loadDetail();
    } catch (e) {
      $('reply-error').textContent = e.message;
    } finally { $('send').disabled = false; }
  }

  async function patch(changes) {
    if (!state.current) return;
    try { state.detail = await api('PATCH', '/api/conversations/' + encodeURIComponent(state.current), changes); renderDetail(); reloadQueue(); }
    catch (e) { $('reply-error').textContent = e.message; }
  }

  // ------------------------------------------------------------------ merge into another conversation of the contact
  async function openMerge() {
    const c = state.detail; if (!c) return;
    const panel = $('merge-panel'), sel = clear($('merge-target'));
    $('merge-hint').textContent = '';
    let others = [];
    try {
      const contact = c.contact && c.contact.id ? await api('GET', '/api/contacts/' + encodeURIComponent(c.contact.id)) : null;
      others = ((contact && contact.conversations) || []).filter(o => o.id !== c.id && o.status !== 'merged');
    } catch (e) { others = []; }
    for (const o of others) {
      sel.appendChild(el('option', { value: o.id,
        text: o.channel + ' · ' + (o.subject || o.id).slice(0, 60) + ' · ' + t('status.' + o.status) + ' · ' + SB.time(o.lastMessageAt) }));
    }
    $('merge-confirm').disabled = !others.length;
    if (!others.length) $('merge-hint').textContent = t('merge.none');
    panel.hidden = false;
  }
  async function confirmMerge() {
    const into = $('merge-target').value;
    if (!into || !state.current) return;
    $('merge-confirm').disabled = true;
    try {
      await api('POST', '/api/conversations/' + encodeURIComponent(state.current) + '/merge', { into });
      $('merge-panel').hidden = true;
      state.notice = t('merge.redirected'); state.keepNotice = true;
      await open(into); reloadQueue();
    } catch (e) { $('merge-hint').textContent = e.message; }
    finally { $('merge-confirm').disabled = false; }
  }

  const toggleAssign = () => patch({ assignee: state.detail && state.detail.assignee === SB.me ? null : SB.me });
  const toggleResolve = () => patch({ status: state.detail && state.detail.status === 'resolved' ? 'open' : 'resolved' });

  // ------------------------------------------------------------------ presence (collision hints)
  let lastTyping = 0;
  function beat(stateName, id) {
    const target = id || state.current;
    if (!target) return;
    api('POST', '/api/conversations/' + encodeURIComponent(target) + '/presence', { state: stateName })
      .then(s => { if (s && stateName !== 'left') { state.presence[target] = s.users; renderPresence(); } }).catch(() => {});
  }
  function renderPresence() {
    const box = clear($('presence'));
    const others = (state.presence[state.current] || []).filter(u => u.user !== SB.me);
    for (const u of others) box.appendChild(el('span', { class: 'who ' + u.state, text: u.user + ' ' + t('presence.' + u.state) }));
  }

  // ------------------------------------------------------------------ keyboard
  function move(delta) {
    if (!state.items.length) return;
    let i = state.items.findIndex(c => c.id === state.current);
    i = i < 0 ? 0 : Math.max(0, Math.min(state.items.length - 1, i + delta));
    open(state.items[i].id);
    const li = document.querySelector('.queue-item[data-id="' + CSS.escape(state.items[i].id) + '"]');
    if (li) li.scrollIntoView({ block: 'nearest' });
  }
  document.addEventListener('keydown', e => {
    const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement && document.activeElement.tagName);
    if (typing) {
      if (e.key === 'Escape') document.activeElement.blur();
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && document.activeElement.id === 'reply-text') { e.preventDefault(); send(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const keys = {
      j: () => move(1), k: () => move(-1), r: () => { setMode('reply'); $('reply-text').focus(); },
      n: () => { setMode('note'); $('reply-text').focus(); }, e: toggleResolve, a: toggleAssign, '/': () => $('search').focus(),
      t: () => { if (state.detail) $('tag-input').focus(); }, m: () => { if (state.detail) openMerge(); }
    };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });

  // ------------------------------------------------------------------ wiring
  $('send').addEventListener('click', send);
  $('mode-reply').addEventListener('click', () => setMode('reply'));
  $('mode-note').addEventListener('click', () => setMode('note'));
  $('act-assign').addEventListener('click', toggleAssign);
  $('act-resolve').addEventListener('click', toggleResolve);
  $('act-pending').addEventListener('click', () => patch({ status: 'pending' }));
  $('act-snooze').addEventListener('click', async () => {
    if (!state.current) return;
    try {
      await api('POST', '/api/conversations/' + encodeURIComponent(state.current) + '/snooze',
        { until: new Date(Date.now() + 3600 * 1000).toISOString() });
      await loadDetail(); reloadQueue();
    } catch (e) { $('reply-error').textContent = e.message; }
  });
  $('conv-priority').addEventListener('change', e => patch({ priority: e.target.value }));
  $('act-merge').addEventListener('click', openMerge);
  $('merge-confirm').addEventListener('click', confirmMerge);
  $('merge-cancel').addEventListener('click', () => { $('merge-panel').hidden = true; });
  $('tag-input').addEventListener('keydown', e => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const tag = e.target.value.trim();
    if (!tag) return;
    e.target.value = '';
    patch({ addTags: [tag] }).then(loadFilterOptions);
  });
  for (const key of Object.keys(FILTERS)) {
    $('filter-' + key).addEventListener('change', e => setFilter(key, e.target.value));
  }
  $('suggestion-insert').addEventListener('click', () => state.suggestion && insert(state.suggestion.text));
  $('canned').addEventListener('change', e => {
    const c = state.canned.find(x => x.id === e.target.value); if (c) insert(c.text); e.target.value = '';
  });
  $('search').addEventListener('input', debounce(e => { state.q = e.target.value.trim(); loadQueue(); }, 300));
  $('reply-text').addEventListener('input', () => {
    if (Date.now() - lastTyping > 3000) { lastTyping = Date.now(); beat('typing'); }
  });
  setInterval(() => beat('viewing'), 10000);
  setInterval(() => { renderQueue(); renderSla(); }, 15000); // countdowns move; data comes from the stream
  window.addEventListener('beforeunload', () => { if (state.current) beat('left'); });

  SB.live({
    ready: () => { $('live').dataset.state = 'on'; $('live').textContent = t('live.on'); reloadQueue(); if (state.current) reloadDetail(); },
    error: () => { $('live').dataset.state = 'off'; $('live').textContent = t('live.off'); },
    conversation: ev => {
      reloadQueue();
      if (ev.conversationId === state.current) {
        reloadDetail();
        if (ev.type === 'message.added' && ev.data && ev.data.direction === 'inbound') loadSuggestion();
      }
    },
    presence: p => { state.presence[p.conversationId] = p.users; if (p.conversationId === state.current) renderPresence(); }
  });

  function relabel() { SB.i18n.apply(document); setMode(state.mode); loadViews(); renderFilters(); renderQueue(); if (state.detail) renderDetail(); }
  SB.i18n.apply(document);
  SB.i18n.bindSwitch(document, relabel);
  setMode('reply');
  api('GET', '/api/me').then(me => { state.roles = me.roles; $('nav-dashboard').hidden = !me.roles.some(r => r === 'operator' || r === 'admin'); });
  loadViews();
  renderFilters();
  loadFilterOptions();
  loadQueue();
  loadCanned();
})();
