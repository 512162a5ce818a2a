'use strict';
/* Shared by the pages: the JSON API with the session's CSRF token, safe DOM building, time formats. */
window.SB = window.SB || {};
(function () {
  const meta = name => { const m = document.querySelector('meta[name="' + name + '"]'); return m ? m.content : ''; };
  const csrfHeader = meta('csrf-header');
  const csrfToken = meta('csrf-token');

  SB.me = meta('sb-user');

  SB.api = async function (method, path, body) {
    const headers = { 'Accept': 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && csrfHeader) headers[csrfHeader] = csrfToken;
    const r = await fetch(path, { method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status === 401) { location.href = '/login'; throw new Error('signed out'); }
    if (r.status === 204) return null;
    const text = await r.text();
    const data = text ? JSON.parse(text) : null;
    if (!r.ok) { const e = new Error((data && data.error) || ('HTTP ' + r.status)); e.status = r.status; throw e; }
    return data;
  };

  /* Builds elements; strings become text nodes, never markup: whatever customers wrote shows literally. */
  SB.el = function (tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  };

  SB.clear = function (node) { while (node.firstChild) node.removeChild(node.firstChild); return node; };

  SB.time = function (iso) {
    if (!iso) return '';
    const d = new Date(iso);
    const sameDay = new Date().toDateString() === d.toDateString();
    return sameDay ? d.toLocaleTimeString(SB.i18n.lang, { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleString(SB.i18n.lang, { day: '2-digit', month: 'short', hour: '2-digit', minute: '2-digit' });
  };

  SB.duration = function (seconds) {
    const neg = seconds < 0; let s = Math.abs(Math.round(seconds));
    const d = Math.floor(s / 86400); s -= d * 86400; const h = Math.floor(s / 3600); s -= h * 3600; const m = Math.floor(s / 60);
    const text = d > 0 ? d + 'd ' + h + 'h' : h > 0 ? h + 'h ' + m + 'm' : m + 'm';
    return (neg ? '−' : '') + text;
  };

  /* One "at risk" threshold everywhere: the queue's sla=at_risk and the summary's atRiskMinutes default to it too. */
  SB.AT_RISK_MINUTES = 30;

  /* The SLA clock that matters now: the running one due soonest; state ok / warn / breached / none. */
  SB.slaState = function (sla, now) {
    if (!sla) return { state: 'none' };
    let best = null;
    for (const key of ['firstResponse', 'nextResponse', 'resolution']) {
      const m = sla[key];
      if (!m) continue;
      if (m.breached && !m.stoppedAt) return { state: 'breached', metric: key, due: m.dueAt, left: m.dueAt ? (Date.parse(m.dueAt) - now) / 1000 : 0 };
      if (m.dueAt && !m.stoppedAt) {
        const left = (Date.parse(m.dueAt) - now) / 1000;
        if (!best || left < best.left) best = { metric: key, due: m.dueAt, left };
      }
    }
    if (!best) return { state: 'none' };
    best.state = best.left < 0 ? 'breached' : best.left < SB.AT_RISK_MINUTES * 60 ? 'warn' : 'ok';
    return best;
  };

  SB.channelIcon = function (channel) {
    const icons = { telegram: '✈', email: '✉', vk: 'VK', facebook: 'f', phone: '☎', webform: '✎' };
    return SB.el('span', { class: 'ch ch-' + channel, title: channel, text: icons[channel] || '?' });
  };

  /* Live stream with automatic reconnection (EventSource retries by itself). */
  SB.live = function (handlers) {
    const src = new EventSource('/api/stream');
    src.addEventListener('ready', e => handlers.ready && handlers.ready(e));
    src.addEventListener('conversation', e => handlers.conversation && handlers.conversation(JSON.parse(e.data)));
    src.addEventListener('presence', e => handlers.presence && handlers.presence(JSON.parse(e.data)));
    src.onerror = () => handlers.error && handlers.error();
    return src;
  };
})();
