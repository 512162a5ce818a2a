'use strict';
/* Operators' dashboard: live tiles and charts, all from GET /api/sla/summary (ECharts). */
(function () {
  const { api, t } = { api: SB.api, t: SB.i18n.t };
  const $ = id => document.getElementById(id);
  const charts = {};
  function chart(id) { return charts[id] || (charts[id] = echarts.init($(id))); }
  function draw(id, option, points) {
    const c = chart(id);
    c.setOption(Object.assign({ animation: false, grid: { left: 48, right: 16, top: 32, bottom: 32 }, tooltip: { trigger: 'axis' } }, option), true);
    $(id).dataset.points = String(points);
  }
  function debounce(fn, ms) { let h; return () => { clearTimeout(h); h = setTimeout(fn, ms); }; }
  const iso = d => d.toISOString().replace('.000', '');
  const AGE_KEYS = { '<1h': 'dash.age.h1', '1h-4h': 'dash.age.h4', '4h-1d': 'dash.age.d1', '1d-3d': 'dash.age.d3', '>=3d': 'dash.age.more' };

  function showEmpty(chartId, emptyId, text) {
    $(chartId).hidden = true; $(chartId).dataset.points = '0';
    $(emptyId).hidden = false; $(emptyId).textContent = text;
  }
  function showChart(chartId, emptyId) { $(chartId).hidden = false; $(emptyId).hidden = true; }
  const failure = e => e.status === 404 || e.status === 403 ? t('dash.slaMissing') : e.message;

  /* Tiles and backlog: the summary's live figures (the router's SLA tracker keeps one entry per unresolved conversation). */
  async function livePart() {
    const s = await api('GET', '/api/sla/summary?atRiskMinutes=' + SB.AT_RISK_MINUTES);
    const live = s.live || {};
    const tile = (id, n) => { $(id).querySelector('.n').textContent = String(n == null ? '–' : n); };
    tile('tile-open', live.open); tile('tile-unassigned', live.unassigned); tile('tile-waiting', live.waiting);
    tile('tile-risk', live.atRisk); tile('tile-breached', live.breachedNow);
    const backlog = s.backlogByAge || [];
    draw('chart-age', {
      xAxis: { type: 'category', data: backlog.map(b => t(AGE_KEYS[b.bucket] || b.bucket)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', name: t('dash.count'), data: backlog.map(b => b.count), itemStyle: { color: '#4f7cff' } }]
    }, backlog.reduce((n, b) => n + b.count, 0));
  }

  /* Summary figures are in seconds; charts show minutes. */
  function minutes(v) { return v == null ? null : Math.round(v / 6) / 10; }
  function rate(figures) { return figures && figures.count ? Math.round(1000 * figures.breached / figures.count) / 10 : null; }

  async function percentilesPart(today) {
    const days = [];
    for (let i = 6; i >= 0; i--) days.push(new Date(today.getTime() - i * 86400000));
    let summaries;
    try {
      summaries = await Promise.all(days.map(d => api('GET', '/api/sla/summary?from=' + iso(d) + '&to=' + iso(new Date(d.getTime() + 86400000)))));
    } catch (e) { showEmpty('chart-sla', 'sla-empty', failure(e)); return; }
    const series = [];
    let points = 0;
    for (const [name, label] of [['firstResponse', t('sla.first')], ['resolution', t('sla.resolution')]]) {
      for (const p of ['p50', 'p90']) {
        const data = summaries.map(s => minutes(s[name] && s[name][p]));
        points += data.filter(v => v != null).length;
        series.push({ type: 'line', name: label + ' ' + p, data, connectNulls: true });
      }
    }
    if (!points) { showEmpty('chart-sla', 'sla-empty', t('dash.slaEmpty')); return; }
    showChart('chart-sla', 'sla-empty');
    draw('chart-sla', { legend: { top: 0 }, xAxis: { type: 'category', data: days.map(d => d.toISOString().slice(5, 10)) },
      yAxis: { type: 'value' }, series }, points);
  }

  /* Breach rate (% of stopped clocks that breached) of first response and resolution per group, over 7 days. */
  async function ratePart(today, groupBy, chartId, emptyId, label) {
    const from = iso(new Date(today.getTime() - 6 * 86400000)), to = iso(new Date(today.getTime() + 86400000));
    let s;
    try { s = await api('GET', '/api/sla/summary?from=' + from + '&to=' + to + '&groupBy=' + groupBy); }
    catch (e) { showEmpty(chartId, emptyId, failure(e)); return; }
    const groups = (s.groups || []).filter(g => rate(g.firstResponse) != null || rate(g.resolution) != null);
    if (!groups.length) { showEmpty(chartId, emptyId, t('dash.slaEmpty')); return; }
    showChart(chartId, emptyId);
    draw(chartId, {
      legend: { top: 0 }, xAxis: { type: 'category', data: groups.map(label) },
      yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value} %' } },
      series: [{ type: 'bar', name: t('sla.first'), data: groups.map(g => rate(g.firstResponse)), itemStyle: { color: '#e5484d' } },
        { type: 'bar', name: t('sla.resolution'), data: groups.map(g => rate(g.resolution)), itemStyle: { color: '#c26a00' } }]
    }, groups.length);
  }

  function slaPart() {
    const today = new Date(); today.setUTCHours(0, 0, 0, 0);
    return Promise.all([percentilesPart(today),
      ratePart(today, 'channel', 'chart-rate', 'rate-empty', g => g.key || '?'),
      ratePart(today, 'assignee', 'chart-rate-agent', 'rate-agent-empty', g => g.key || t('dash.unassignedAgent'))]);
  }

  const refresh = debounce(() => { livePart().catch(() => {}); slaPart().catch(() => {}); }, 1000);
  SB.live({
    ready: () => { $('live').dataset.state = 'on'; $('live').textContent = t('live.on'); },
    error: () => { $('live').dataset.state = 'off'; $('live').textContent = t('live.off'); },
    conversation: refresh
  });
  setInterval(() => livePart().catch(() => {}), 30000); // "at risk" moves with time even without events
  window.addEventListener('resize', () => Object.values(charts).forEach(c => c.resize()));
  SB.i18n.apply(document);
  SB.i18n.bindSwitch(document, () => { livePart(); slaPart(); });
  livePart().catch(() => {});
  slaPart().catch(() => {});
})();
