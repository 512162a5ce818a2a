'use strict';
/* Operators' dashboard: live tiles and charts from the queue and GET /api/sla/summary (ECharts). */
(function () {
  const { api, t } = { api: SB.api, t: SB.i18n.t };
  const $ = id => document.getElementById(id);
  const CHANNELS = ['email', 'telegram', 'vk', 'facebook', 'phone', 'webform'];
  const charts = {};
  function chart(id) { return charts[id] || (charts[id] = echarts.init($(id))); }
  function draw(id, option, points) {
    const c = chart(id);
    c.setOption(Object.assign({ animation: false, grid: { left: 48, right: 16, top: 32, bottom: 32 }, tooltip: { trigger: 'axis' } }, option), true);
    $(id).dataset.points = String(points);
  }
  function debounce(fn, ms) { let h; return () => { clearTimeout(h); h = setTimeout(fn, ms); }; }

  async function openConversations() {
    let items = [], cursor = null;
    for (let i = 0; i < 10; i++) {
      const page = await api('GET', '/api/conversations?status=open,pending,snoozed&limit=200' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      items = items.concat(page.items); cursor = page.nextCursor;
      if (!cursor) break;
    }
    return items;
  }

  async function queuePart() {
    const items = await openConversations();
    const now = Date.now();
    let open = 0, unassigned = 0, waiting = 0, risk = 0, breached = 0;
    const age = [0, 0, 0, 0];
    const byChannel = {}, byAgent = {};
    for (const c of items) {
      const s = SB.slaState(c.sla, now);
      if (c.status === 'open') open++;
      if (!c.assignee && c.status !== 'snoozed') unassigned++;
      if (c.awaitingSince) waiting++;
      if (s.state === 'breached') breached++;
      else if (s.state !== 'none' && s.left < 15 * 60) risk++;
      const since = Date.parse(c.awaitingSince || c.createdAt || c.lastMessageAt);
      const hours = (now - since) / 3600000;
      age[hours < 1 ? 0 : hours < 4 ? 1 : hours < 24 ? 2 : 3]++;
      const ch = byChannel[c.channel] || (byChannel[c.channel] = { open: 0, breached: 0 });
      ch.open++; if (s.state === 'breached') ch.breached++;
      const who = c.assignee || t('dash.unassignedAgent');
      const ag = byAgent[who] || (byAgent[who] = { open: 0, breached: 0 });
      ag.open++; if (s.state === 'breached') ag.breached++;
    }
    const tile = (id, n) => { $(id).querySelector('.n').textContent = String(n); };
    tile('tile-open', open); tile('tile-unassigned', unassigned); tile('tile-waiting', waiting);
    tile('tile-risk', risk); tile('tile-breached', breached);
    draw('chart-age', {
      xAxis: { type: 'category', data: ['dash.age.h1', 'dash.age.h4', 'dash.age.d1', 'dash.age.more'].map(t) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', name: t('dash.count'), data: age, itemStyle: { color: '#4f7cff' } }]
    }, items.length);
    const channels = Object.keys(byChannel).sort();
    draw('chart-channel', {
      legend: { top: 0 }, xAxis: { type: 'category', data: channels }, yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', name: t('dash.open'), data: channels.map(c => byChannel[c].open), itemStyle: { color: '#4f7cff' } },
        { type: 'bar', name: t('dash.breached'), data: channels.map(c => byChannel[c].breached), itemStyle: { color: '#e5484d' } }]
    }, channels.length);
    const agents = Object.keys(byAgent).sort();
    draw('chart-agent', {
      legend: { top: 0 }, xAxis: { type: 'category', data: agents }, yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', name: t('dash.open'), data: agents.map(a => byAgent[a].open), itemStyle: { color: '#30a46c' } },
        { type: 'bar', name: t('dash.breached'), data: agents.map(a => byAgent[a].breached), itemStyle: { color: '#e5484d' } }]
    }, agents.length);
  }

  /* Accepts {firstResponse:{...}} or {metrics:{firstResponse:{...}}}; seconds in, minutes out. */
  function metric(summary, name) {
    const m = (summary && (summary.metrics || summary)[name]) || {};
    return { count: m.count || 0, met: m.met || 0, breached: m.breached || 0,
      p50: m.p50 == null ? null : Math.round(m.p50 / 6) / 10, p90: m.p90 == null ? null : Math.round(m.p90 / 6) / 10 };
  }

  function showEmpty(chartId, emptyId, text) {
    $(chartId).hidden = true; $(chartId).dataset.points = '0';
    $(emptyId).hidden = false; $(emptyId).textContent = text;
  }

  async function slaPart() {
    const days = [];
    const today = new Date(); today.setUTCHours(0, 0, 0, 0);
    for (let i = 6; i >= 0; i--) days.push(new Date(today.getTime() - i * 86400000));
    let summaries;
    try {
      summaries = await Promise.all(days.map(d => api('GET', '/api/sla/summary?from=' + d.toISOString().replace('.000', '')
        + '&to=' + new Date(d.getTime() + 86400000).toISOString().replace('.000', ''))));
    } catch (e) {
      showEmpty('chart-sla', 'sla-empty', e.status === 404 || e.status === 403 ? t('dash.slaMissing') : e.message);
      showEmpty('chart-rate', 'rate-empty', e.status === 404 || e.status === 403 ? t('dash.slaMissing') : e.message);
      return;
    }
    const labels = days.map(d => d.toISOString().slice(5, 10));
    const series = [];
    let points = 0;
    for (const [name, label] of [['firstResponse', t('sla.first')], ['resolution', t('sla.resolution')]]) {
      for (const p of ['p50', 'p90']) {
        const data = summaries.map(s => metric(s, name)[p]);
        points += data.filter(v => v != null).length;
        series.push({ type: 'line', name: label + ' ' + p, data, connectNulls: true });
      }
    }
    if (!points) { showEmpty('chart-sla', 'sla-empty', t('dash.slaEmpty')); }
    else {
      $('chart-sla').hidden = false; $('sla-empty').hidden = true;
      draw('chart-sla', { legend: { top: 0 }, xAxis: { type: 'category', data: labels }, yAxis: { type: 'value' }, series }, points);
    }
    const from = days[0].toISOString().replace('.000', ''), to = new Date(today.getTime() + 86400000).toISOString().replace('.000', '');
    const rates = await Promise.all(CHANNELS.map(ch => api('GET', '/api/sla/summary?from=' + from + '&to=' + to + '&channel=' + ch)
      .then(s => { const m = metric(s, 'firstResponse'); return m.count ? Math.round(100 * m.breached / m.count) : null; })
      .catch(() => null)));
    const shown = CHANNELS.filter((c, i) => rates[i] != null);
    if (!shown.length) { showEmpty('chart-rate', 'rate-empty', t('dash.slaEmpty')); return; }
    $('chart-rate').hidden = false; $('rate-empty').hidden = true;
    draw('chart-rate', { xAxis: { type: 'category', data: shown }, yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value} %' } },
      series: [{ type: 'bar', data: shown.map(c => rates[CHANNELS.indexOf(c)]), itemStyle: { color: '#e5484d' } }] }, shown.length);
  }

  const refresh = debounce(() => { queuePart().catch(() => {}); slaPart().catch(() => {}); }, 1000);
  SB.live({
    ready: () => { $('live').dataset.state = 'on'; $('live').textContent = t('live.on'); },
    error: () => { $('live').dataset.state = 'off'; $('live').textContent = t('live.off'); },
    conversation: refresh
  });
  setInterval(() => queuePart().catch(() => {}), 30000); // "at risk" moves with time even without events
  window.addEventListener('resize', () => Object.values(charts).forEach(c => c.resize()));
  SB.i18n.apply(document);
  SB.i18n.bindSwitch(document, () => { queuePart(); slaPart(); });
  queuePart().catch(() => {});
  slaPart().catch(() => {});
})();
