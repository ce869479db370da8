// The saleslake web console: sign-in, dashboards and the SQL editor over /api/.
// Every value from the server is put in the page as text (textContent, escaped tooltips), never
// as HTML, so data and titles cannot inject markup. The page's state (dashboard, filters) lives
// in the URL so a view can be shared and reloaded.

import { attachHighlighter, highlightNow } from './sql_highlight.js';

const $ = (id) => document.getElementById(id);
const echarts = window.echarts || null;

const state = {
  session: null,
  dashboard: null,
  dashboardId: 'sales-performance',
  filters: {},           // column -> [values] | {from, to}
  charts: new Map(),     // tile id -> echarts instance
  timer: null,
  paused: false,
  refreshing: false,
  pending: false,
  editing: false,
  editingTile: null,     // index in dashboard.tiles of the tile in the editor, -1 for a new one
  opsTimer: null,        // the streams page's refresh
};
// What the page shows, for tests and debugging: tile id -> {columns, rows, error}; refreshes
// started and finished.
window.__saleslake = { tiles: {}, refreshes: 0, started: 0, ready: false };

// ---- helpers

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });
const count = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const pct = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 2 });

function fmt(value, format) {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'number') return String(value);
  if (format === 'currency') return money.format(value);
  if (format === 'percent') return pct.format(value);
  return count.format(value);
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body, signal) {
  const headers = { 'Content-Type': 'application/json' };
  if (method !== 'GET' && state.session) headers['X-CSRF-Token'] = state.session.csrf_token;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin', signal,
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (res.status === 401 && path !== '/api/login') {
    state.session = null;
    showLogin();
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

function text(el, value) { el.textContent = value; return el; }
function make(tag, cls, content) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (content !== undefined) el.textContent = content;
  return el;
}

// ---- routing and URL state

function parseHash() {
  const h = location.hash || '#/d/sales-performance';
  const [path, query] = h.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  return { path, params };
}

function writeFiltersToUrl() {
  const f = JSON.stringify(state.filters);
  const base = `#/d/${state.dashboardId}`;
  const next = f === '{}' ? base : `${base}?f=${encodeURIComponent(f)}`;
  if (location.hash !== next) history.replaceState(null, '', next);
}

function showOnly(id) {
  for (const v of ['login-view', 'dashboard-view', 'sql-view', 'catalog-view', 'jobs-view', 'streams-view', 'events-view']) $(v).hidden = v !== id;
  $('top').hidden = id === 'login-view';
}

function showLogin() {
  stopTimer();
  if (state.opsTimer) clearInterval(state.opsTimer);
  state.opsTimer = null;
  showOnly('login-view');
}

async function route() {
  if (!state.session) {
    try {
      state.session = await api('GET', '/api/session');
    } catch {
      showLogin();
      return;
    }
  }
  $('whoami').textContent = `${state.session.user}${state.session.read_pii ? '' : ' (no PII)'}`;
  const { path, params } = parseHash();
  if (state.opsTimer) clearInterval(state.opsTimer);
  state.opsTimer = null;
  if (path === '/sql') {
    stopTimer();
    showOnly('sql-view');
    loadCatalog();
    loadHistory();
    loadSaved();
    return;
  }
  const cat = path.match(/^\/catalog(?:\/([A-Za-z0-9_]+))?$/);
  if (cat) {
    stopTimer();
    showOnly('catalog-view');
    await openCatalog(cat[1]);
    return;
  }
  if (path === '/jobs') {
    stopTimer();
    showOnly('jobs-view');
    await openJobs();
    return;
  }
  if (path === '/streams') {
    stopTimer();
    showOnly('streams-view');
    await openStreams();
    // Live rates: read again every 10 s while the page is open and visible.
    state.opsTimer = setInterval(() => { if (!document.hidden) openStreams(); }, 10000);
    return;
  }
  if (path === '/events') {
    stopTimer();
    showOnly('events-view');
    await openEvents();
    return;
  }
  const m = path.match(/^\/d\/([a-z0-9][a-z0-9_-]*)$/);
  state.dashboardId = m ? m[1] : 'sales-performance';
  try {
    state.filters = params.get('f') ? JSON.parse(params.get('f')) : {};
  } catch {
    state.filters = {};
  }
  showOnly('dashboard-view');
  await openDashboard();
}

// ---- sign-in

async function login(body) {
  $('login-error').textContent = '';
  try {
    state.session = await api('POST', '/api/login', body);
    await route();
  } catch (e) {
    $('login-error').textContent = e.message;
  }
}

// ---- dashboards

async function openDashboard() {
  window.__saleslake.ready = false;
  let d;
  try {
    d = await api('GET', `/api/dashboards/${state.dashboardId}`);
  } catch (e) {
    $('dash-title').textContent = 'Dashboard unavailable';
    $('tiles').replaceChildren(make('p', 'error', e.message));
    return;
  }
  state.dashboard = d;
  setEditing(false);
  $('dash-title').textContent = d.title;
  $('interval').value = String(d.refresh_seconds);
  buildTiles();
  await loadFilterOptions();
  syncFilterInputs();
  await refresh();
  startTimer();
}

function buildTiles() {
  for (const c of state.charts.values()) c.dispose();
  state.charts.clear();
  window.__saleslake.tiles = {};
  const grid = $('tiles');
  grid.replaceChildren();
  for (const t of state.dashboard.tiles) {
    const el = make('div', `tile ${t.type === 'kpi' ? 'kpi' : t.type === 'table' ? 'table' : t.type === 'quality' ? 'quality' : 'chart'}`);
    if (t.type === 'live') el.classList.add('live');
    el.dataset.tileId = t.id;
    el.style.gridColumn = `span ${Math.min(12, t.w || (t.type === 'kpi' ? 2 : 6))}`;
    const h = make('h3');
    const tools = make('div', 'tools');
    for (const [act, label, title] of [['left', '◀', 'move left'], ['right', '▶', 'move right'],
      ['narrower', '−', 'narrower'], ['wider', '+', 'wider'], ['shorter', '▴', 'shorter'], ['taller', '▾', 'taller'],
      ['edit', '✎', 'edit'], ['remove', '✕', 'remove']]) {
      const b = make('button', `tool-${act}`, label);
      b.type = 'button';
      b.title = title;
      b.addEventListener('click', () => tileAction(t.id, act));
      tools.append(b);
    }
    h.append(make('span', 'tile-title', t.title), make('span', 'tile-dot dot'));
    const body = make('div', 'body');
    if (t.type !== 'kpi' && t.h) body.style.height = `${Math.min(8, t.h) * 5.5}rem`;
    const err = make('div', 'tile-error');
    el.append(h, tools, body, err);
    grid.append(el);
  }
}

function tileEl(id) { return document.querySelector(`.tile[data-tile-id="${CSS.escape(id)}"]`); }

// Runs every tile in parallel; each tile shows its own error and keeps its last good render
// until new data arrives (no blank frame between two renders).
async function refresh() {
  if (!state.dashboard) return;
  if (state.refreshing) {  // run again when this one ends (filters may have changed meanwhile)
    state.pending = true;
    return;
  }
  state.refreshing = true;
  state.pending = false;
  window.__saleslake.started++;
  $('status-dot').className = 'dot busy';
  const started = new Date();
  let failures = 0;
  await Promise.all(state.dashboard.tiles.map(async (t) => {
    const el = tileEl(t.id);
    if (!el) return;
    try {
      if (t.type === 'live') {
        await refreshLive(t, el);
        return;
      }
      const body = { sql: t.sql, filters: state.filters, limit: 5000 };
      if (t.type === 'line' && t.forecast) body.forecast = t.forecast;
      const r = await api('POST', '/api/query', body);
      const prev = window.__saleslake.tiles[t.id];
      window.__saleslake.tiles[t.id] = { columns: r.columns, rows: r.rows, cached: r.cached, forecast: r.forecast, runs: prev && prev.runs };
      el.querySelector('.tile-error').textContent = '';
      el.querySelector('.tile-dot').className = 'tile-dot dot ok';
      await render(t, el, r);
    } catch (e) {
      failures++;
      const pos = e.body && e.body.error && e.body.error.position;
      const where = pos && pos.line ? ` (line ${pos.line}, column ${pos.column})` : '';
      window.__saleslake.tiles[t.id] = { error: e.message };
      el.querySelector('.tile-error').textContent = e.message + where;
      el.querySelector('.tile-dot').className = 'tile-dot dot bad';
    }
  }));
  state.refreshing = false;
  window.__saleslake.refreshes++;
  window.__saleslake.ready = !state.pending;
  $('status-dot').className = failures ? 'dot bad' : 'dot ok';
  $('status-dot').title = failures ? `${failures} tile(s) failed` : 'all tiles up to date';
  $('last-refresh').textContent = `updated ${started.toLocaleTimeString()}`;
  if (state.pending) refresh();
}

function numericColumns(r) {
  return r.columns.map((c, i) => i).filter((i) => i > 0);
}

function tooltipFormatter(format) {
  return (params) => {
    const list = Array.isArray(params) ? params : [params];
    const head = list.length ? escapeHtml(list[0].name ?? '') : '';
    const lines = list.map((p) => {
      const v = Array.isArray(p.value) ? p.value[p.value.length - 1] : p.value;
      return `${p.marker || ''}${escapeHtml(p.seriesName ?? '')}: ${escapeHtml(fmt(v, format))}`;
    });
    return [head, ...lines].join('<br>');
  };
}

function chartFor(t, el) {
  let c = state.charts.get(t.id);
  if (!c) {
    const body = el.querySelector('.body');
    const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    c = echarts.init(body, dark ? 'dark' : null, { renderer: 'canvas' });
    state.charts.set(t.id, c);
    c.on('click', (p) => onChartClick(t, p));
    new ResizeObserver(() => c.resize()).observe(body);
  }
  return c;
}

function render(t, el, r) {
  const body = el.querySelector('.body');
  if (t.type === 'quality') {
    renderQuality(t, el, r);
    return;
  }
  if (t.type === 'kpi') {
    const v = r.rows.length ? r.rows[0][0] : null;
    let k = body.querySelector('.kpi-value');
    if (!k) { k = make('div', 'kpi-value'); body.replaceChildren(k); }
    k.textContent = fmt(v, t.format);
    k.dataset.value = v === null ? '' : String(v);
    if (v === null && t.id === 'customers' && state.session && !state.session.read_pii) {
      el.querySelector('.tile-error').textContent = 'needs saleslake:ReadPii';
    }
    return;
  }
  if (t.type === 'table' || !echarts) {
    body.replaceChildren(resultTable(r.columns, r.rows));
    return;
  }
  const c = chartFor(t, el);
  const tooltip = { trigger: t.type === 'pie' || t.type === 'heatmap' ? 'item' : 'axis', formatter: tooltipFormatter(t.format), confine: true };
  const x = r.rows.map((row) => row[0]);
  let option;
  if (t.type === 'line' || t.type === 'bar') {
    option = {
      tooltip, legend: { top: 0 }, grid: { left: 60, right: 16, top: 28, bottom: 40 },
      xAxis: { type: 'category', data: x, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', axisLabel: { formatter: (v) => fmt(v, t.format) } },
      series: numericColumns(r).map((i) => ({
        name: r.columns[i].name, type: t.type, data: r.rows.map((row) => row[i]),
        showSymbol: false, smooth: t.type === 'line' && i > 1,
      })),
    };
    if (t.type === 'line') option.dataZoom = [{ type: 'inside' }];
    if (t.type === 'line' && r.forecast) addForecast(t, r, option, el);
  } else if (t.type === 'pie') {
    option = {
      tooltip, legend: { top: 0, type: 'scroll' },
      series: [{ name: r.columns[1] ? r.columns[1].name : '', type: 'pie', radius: ['40%', '70%'], top: 24,
        data: r.rows.map((row) => ({ name: String(row[0]), value: row[1] })) }],
    };
  } else if (t.type === 'heatmap') {
    const xs = [...new Set(r.rows.map((row) => row[1]))];
    const ys = [...new Set(r.rows.map((row) => row[0]))];
    const values = r.rows.map((row) => row[2]).filter((v) => typeof v === 'number');
    option = {
      tooltip, grid: { left: 110, right: 16, top: 8, bottom: 60 },
      xAxis: { type: 'category', data: xs }, yAxis: { type: 'category', data: ys },
      visualMap: { min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 1,
        calculable: true, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 80 },
      series: [{ name: r.columns[2] ? r.columns[2].name : '', type: 'heatmap',
        data: r.rows.map((row) => [xs.indexOf(row[1]), ys.indexOf(row[0]), row[2]]) }],
    };
  }
  // Merge (not replace): zoom, legend selection and hover survive a refresh, and the series
  // animate from their old values instead of being drawn again.
  c.setOption(option, { notMerge: false, lazyUpdate: false });
}

// Forecast bands on a line tile: the mean dashed after the last day, 80% and 95% bands as
// stacked areas (a transparent lower edge plus the band's width), and the model and its
// backtested error in the tooltip. The series are there even when the forecast failed (empty),
// so that a merge never leaves an old band behind.
function addForecast(t, r, option, el) {
  let fc = r.forecast;
  if (fc.error) {
    el.querySelector('.tile-error').textContent = `forecast: ${fc.error}`;
    fc = { dates: [], mean: [], lo80: [], hi80: [], lo95: [], hi95: [], model: '', backtest: null };
  }
  const n = r.rows.length;
  const pad = (vals) => [...new Array(n).fill(null), ...vals];
  option.xAxis.data = [...option.xAxis.data, ...fc.dates];
  for (const sr of option.series) sr.data = [...sr.data, ...new Array(fc.dates.length).fill(null)];
  const band = (lo, hi, stack, opacity) => [
    { name: `${stack} low`, type: 'line', stack, data: pad(lo), lineStyle: { opacity: 0 }, showSymbol: false, silent: true, tooltip: { show: false } },
    { name: stack, type: 'line', stack, data: pad(hi.map((h, i) => h - lo[i])), lineStyle: { opacity: 0 }, showSymbol: false,
      areaStyle: { opacity, color: '#7c3aed' }, silent: true },
  ];
  option.series.push(
    ...band(fc.lo95, fc.hi95, 'band 95%', 0.12), ...band(fc.lo80, fc.hi80, 'band 80%', 0.22),
    { name: 'forecast', type: 'line', data: pad(fc.mean), showSymbol: false, lineStyle: { type: 'dashed', color: '#7c3aed' }, itemStyle: { color: '#7c3aed' } },
  );
  option.legend = { top: 0, data: [...r.columns.slice(1).map((c) => c.name), 'forecast'] };
  const bt = fc.backtest;
  const errorLine = bt ? `backtest (${bt.windows} × ${fc.dates.length} days): sMAPE ${bt.smape === null ? '—' : bt.smape.toFixed(1)}%, MAE ${escapeHtml(fmt(bt.mae, t.format))}, 80% band held ${bt.coverage80 === null ? '—' : Math.round(bt.coverage80 * 100)}%` : 'no backtest (short history)';
  option.tooltip.formatter = (params) => {
    const list = Array.isArray(params) ? params : [params];
    if (!list.length) return '';
    const i = list[0].dataIndex;
    if (i < n) return tooltipFormatter(t.format)(list.filter((p) => !String(p.seriesName).startsWith('band')));
    const k = i - n;
    return [escapeHtml(fc.dates[k]), `forecast: ${escapeHtml(fmt(fc.mean[k], t.format))}`,
      `80%: ${escapeHtml(fmt(fc.lo80[k], t.format))} – ${escapeHtml(fmt(fc.hi80[k], t.format))}`,
      `95%: ${escapeHtml(fmt(fc.lo95[k], t.format))} – ${escapeHtml(fmt(fc.hi95[k], t.format))}`,
      `model ${escapeHtml(fc.model)}`, errorLine].join('<br>');
  };
}

// A live tile: the per-minute metrics of a stream (GET /api/streams/NAME/metrics: one-minute
// windows per region of the last 24 h, minutes without records absent), summed over regions,
// over the last hour with empty minutes as zeros. Never cached on the server; runs no SQL.
async function refreshLive(t, el) {
  const m = await api('GET', `/api/streams/${encodeURIComponent(t.stream)}/metrics`);
  const step = (m.window_seconds || 60) * 1000;
  const end = Math.floor((m.generated_ms || Date.now()) / step) * step;
  const minutes = [];
  for (let at = end - 59 * step; at <= end; at += step) minutes.push(at);
  const by = new Map(minutes.map((at) => [at, { orders: 0, revenue: 0, refunds: 0, invalid: 0 }]));
  for (const w of m.windows || []) {
    const slot = by.get(w.window_start_ms);
    if (!slot) continue;
    slot.orders += w.orders || 0;
    slot.revenue += w.revenue || 0;
    slot.refunds += w.refunds || 0;
    slot.invalid += w.invalid || 0;
  }
  const rows = minutes.map((at) => {
    const v = by.get(at);
    return [new Date(at).toISOString().slice(11, 16), v.orders, Math.round(v.revenue * 100) / 100, v.refunds, v.invalid];
  });
  const r = { columns: ['minute', 'orders', 'revenue', 'refunds', 'invalid'].map((name) => ({ name })), rows };
  window.__saleslake.tiles[t.id] = { columns: r.columns, rows, live: true };
  el.querySelector('.tile-error').textContent = '';
  el.querySelector('.tile-dot').className = 'tile-dot dot ok';
  if (!echarts) {
    el.querySelector('.body').replaceChildren(resultTable(r.columns, rows));
    return;
  }
  const c = chartFor(t, el);
  c.setOption({
    tooltip: { trigger: 'axis', confine: true, formatter: tooltipFormatter('number') },
    legend: { top: 0 }, grid: { left: 50, right: 60, top: 28, bottom: 30 },
    xAxis: { type: 'category', data: rows.map((x) => x[0]) },
    yAxis: [{ type: 'value', name: 'orders', minInterval: 1 }, { type: 'value', name: 'revenue' }],
    series: [
      { name: 'orders', type: 'bar', data: rows.map((x) => x[1]) },
      { name: 'revenue', type: 'line', yAxisIndex: 1, showSymbol: false, data: rows.map((x) => x[2]) },
      { name: 'invalid', type: 'bar', stack: 'bad', data: rows.map((x) => x[4]), itemStyle: { color: '#c0262d' } },
    ],
  }, { notMerge: false });
}

// A data-quality tile: its SQL's value (the share of rows missing an amount) and the quarantined
// rows of each run of its job (from the run reports); a click on a run opens its quarantined rows.
async function renderQuality(t, el, r) {
  const body = el.querySelector('.body');
  let k = body.querySelector('.kpi-value');
  let chartBox = body.querySelector('.quality-chart');
  if (!k) {
    k = make('div', 'kpi-value');
    chartBox = make('div', 'quality-chart');
    body.replaceChildren(make('div', 'quality-label', r.columns[0] ? r.columns[0].name : ''), k, chartBox);
  }
  const v = r.rows.length ? r.rows[0][0] : null;
  k.textContent = fmt(v, t.format);
  k.dataset.value = v === null ? '' : String(v);
  const job = t.job || 'my-etl-job';
  let runs;
  try {
    runs = (await api('GET', `/api/runs?job=${encodeURIComponent(job)}`)).runs.slice(0, 30).reverse();
  } catch (e) {
    el.querySelector('.tile-error').textContent = `runs: ${e.message}`;
    return;
  }
  if (!el.isConnected) return;  // the tiles were rebuilt (an edit) while the runs loaded
  const entry = window.__saleslake.tiles[t.id];
  if (entry) entry.runs = runs.map((x) => ({ run_id: x.run_id, rows_quarantined: x.rows_quarantined }));
  const rows = runs.map((x) => [x.run_id, x.rows_quarantined]);
  if (!echarts) {
    chartBox.replaceChildren(resultTable([{ name: 'run' }, { name: 'quarantined rows' }], rows));
    return;
  }
  let c = state.charts.get(t.id);
  if (!c) {
    const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    c = echarts.init(chartBox, dark ? 'dark' : null, { renderer: 'canvas' });
    state.charts.set(t.id, c);
    c.on('click', (p) => showQuarantine(job, String(p.name), $('drill'), $('drill-title'), $('drill-body')));
    new ResizeObserver(() => c.resize()).observe(chartBox);
  }
  c.setOption({
    tooltip: { trigger: 'axis', confine: true, formatter: (ps) => {
      const p = ps[0];
      const run = runs[p.dataIndex];
      const reasons = Object.entries(run.quarantined_by_reason || {}).map(([why, n]) => `${escapeHtml(why)}: ${n}`);
      return [escapeHtml(run.run_id), `${escapeHtml(run.status)}, ${run.rows_loaded} rows loaded`, `quarantined: ${run.rows_quarantined}`, ...reasons].join('<br>');
    } },
    grid: { left: 50, right: 16, top: 8, bottom: 24 },
    xAxis: { type: 'category', data: runs.map((x) => x.run_id), axisLabel: { show: false } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ name: 'quarantined rows', type: 'bar', data: runs.map((x) => x.rows_quarantined), itemStyle: { color: '#c0262d' } }],
  }, { notMerge: false });
}

async function showQuarantine(job, runId, box, title, out) {
  box.hidden = false;
  title.textContent = `Quarantined rows of ${job} run ${runId}`;
  try {
    const r = await api('GET', `/api/runs/${encodeURIComponent(job)}/${encodeURIComponent(runId)}/quarantine`);
    window.__saleslake.quarantine = r;
    const cols = ['line', 'column', 'reason', 'raw'];
    out.replaceChildren(resultTable(cols.map((name) => ({ name })), r.rows.map((q) => cols.map((c) => q[c] ?? null))));
  } catch (e) {
    window.__saleslake.quarantine = { error: e.message, status: e.status };
    out.replaceChildren(make('p', 'error', e.message));
  }
}

// ---- catalog page

async function openCatalog(name) {
  $('catalog-error').textContent = '';
  try {
    const r = await api('GET', '/api/catalog/tables');
    $('catalog-tables').replaceChildren(make('h3', null, 'Tables'), ...r.tables.map((t) => {
      const a = make('a', null, `${t.name} (${t.rows} rows)`);
      a.href = `#/catalog/${t.name}`;
      const p = make('p');
      p.append(a);
      return p;
    }));
    if (!name && r.tables.length) name = r.tables[0].name;
    if (!name) return;
    const t = await api('GET', `/api/catalog/tables/${encodeURIComponent(name)}`);
    window.__saleslake.table = t;
    $('table-name').textContent = t.name;
    $('table-meta').textContent = `${t.format} at ${t.location}; partitioned by ${t.partition_keys.join(', ') || 'nothing'}; snapshot ${t.current_snapshot_id}`;
    $('table-columns').replaceChildren(resultTable([{ name: 'column' }, { name: 'type' }, { name: 'tags' }],
      t.columns.map((c) => [c.name, c.type, [c.pii ? 'PII' : '', c.partition ? 'partition' : ''].filter(Boolean).join(', ')])));
    $('table-partitions').replaceChildren(resultTable([{ name: 'partition' }, { name: 'files' }, { name: 'rows' }, { name: 'bytes' }],
      t.partitions.map((p) => [p.path, p.files, p.rows, p.bytes])));
    const showDdl = () => { $('table-ddl').textContent = t.ddl[$('ddl-dialect').value] || ''; };
    $('ddl-dialect').onchange = showDdl;
    showDdl();
    // Time travel: each retained snapshot with what it changed; a click shows its partitions
    // (files, rows) beside today's. The engine has no AS OF syntax, so no query runs at it.
    const snaps = t.snapshots.map((sn, i) => {
      const prev = i > 0 ? t.snapshots[i - 1] : { files: 0, rows: 0 };
      return [sn.id, new Date(sn.timestamp_ms).toISOString(), sn.operation, sn.files, sn.rows,
        `${sn.rows - prev.rows >= 0 ? '+' : ''}${sn.rows - prev.rows}`, `${sn.files - prev.files >= 0 ? '+' : ''}${sn.files - prev.files}`];
    }).reverse();
    const snapTable = resultTable(['snapshot', 'time', 'operation', 'files', 'rows', 'rows added', 'files added'].map((n) => ({ name: n })), snaps);
    [...snapTable.tBodies[0].rows].forEach((tr, i) => {
      tr.dataset.snapshotId = String(snaps[i][0]);
      tr.classList.add('clickable');
      tr.addEventListener('click', () => openSnapshot(t, snaps[i][0]));
    });
    $('table-snapshots').replaceChildren(snapTable);
    $('table-at').hidden = true;
  } catch (e) {
    $('catalog-error').textContent = e.message;
  }
}

async function openSnapshot(t, id) {
  const box = $('table-at');
  box.hidden = false;
  $('table-at-title').textContent = `As of snapshot ${id}`;
  try {
    const then = await api('GET', `/api/catalog/tables/${encodeURIComponent(t.name)}?snapshot=${encodeURIComponent(id)}`);
    const now = new Map(t.partitions.map((p) => [p.path, p]));
    const sn = t.snapshots.find((x) => x.id === id);
    $('table-at-meta').textContent = `${new Date(sn.timestamp_ms).toISOString()}, ${sn.operation}: ${sn.files} files, ${sn.rows} rows (now ${t.snapshots[t.snapshots.length - 1].rows} rows)`;
    $('table-at-partitions').replaceChildren(resultTable(['partition', 'files then', 'rows then', 'bytes then', 'rows now'].map((n) => ({ name: n })),
      then.partitions.map((p) => [p.path || '(whole table)', p.files, p.rows, p.bytes, now.has(p.path) ? now.get(p.path).rows : null])));
    window.__saleslake.snapshot = { id, partitions: then.partitions };
  } catch (e) {
    $('table-at-partitions').replaceChildren(make('p', 'error', e.message));
    window.__saleslake.snapshot = { id, error: e.message };
  }
}

// ---- jobs page

async function openJobs() {
  $('jobs-error').textContent = '';
  $('quarantine').hidden = true;
  try {
    const r = await api('GET', '/api/runs');
    window.__saleslake.runs = r.runs;
    const cols = ['job', 'run_id', 'status', 'started_at', 'duration_s', 'rows_read', 'rows_loaded', 'rows_quarantined', 'quarantined_by_reason'];
    const table = resultTable(cols.map((name) => ({ name })), r.runs.map((run) => cols.map((c) => {
      const v = run[c];
      if (c === 'quarantined_by_reason') return Object.entries(v || {}).map(([k, n]) => `${k}: ${n}`).join('; ');
      if (c === 'duration_s' && typeof v === 'number') return Math.round(v * 1000) / 1000;
      return v ?? null;
    })));
    [...table.tBodies[0].rows].forEach((tr, i) => {
      const run = r.runs[i];
      tr.dataset.runId = run.run_id;
      if (run.rows_quarantined > 0) {
        tr.classList.add('clickable');
        tr.addEventListener('click', () => showQuarantine(run.job, run.run_id, $('quarantine'), $('quarantine-title'), $('quarantine-body')));
      }
    });
    $('runs').replaceChildren(table);
  } catch (e) {
    $('jobs-error').textContent = e.message;
  }
}

// ---- streams page: shards, records, live rates (the stream metrics) and delivery lag

// Records acknowledged (delivered-to-be and invalid alike) in the current minute and in the
// last five (this one included), from the per-minute windows of /api/streams/NAME/metrics.
export function streamRates(m) {
  const step = (m.window_seconds || 60) * 1000;
  const current = Math.floor((m.generated_ms || Date.now()) / step) * step;
  const out = { this_minute: 0, last_5_minutes: 0, revenue_5_minutes: 0, invalid_5_minutes: 0, per_second: 0 };
  for (const w of m.windows || []) {
    const n = (w.orders || 0) + (w.invalid || 0);
    if (w.window_start_ms === current) out.this_minute += n;
    if (w.window_start_ms > current - 5 * step && w.window_start_ms <= current) {
      out.last_5_minutes += n;
      out.revenue_5_minutes += w.revenue || 0;
      out.invalid_5_minutes += w.invalid || 0;
    }
  }
  out.revenue_5_minutes = Math.round(out.revenue_5_minutes * 100) / 100;
  out.per_second = Math.round((out.last_5_minutes / 300) * 1000) / 1000;
  return out;
}

function figure(name, label, value) {
  const d = make('div');
  const v = make('span', 'value', value === null || value === undefined ? '—' : String(value));
  v.dataset.figure = name;
  d.append(make('span', 'label', label), v);
  return d;
}

async function openStreams() {
  $('streams-error').textContent = '';
  try {
    const r = await api('GET', '/api/streams');
    const rates = {};
    await Promise.all(r.streams.map(async (st) => {
      try {
        rates[st.name] = streamRates(await api('GET', `/api/streams/${encodeURIComponent(st.name)}/metrics`));
      } catch (e) {
        rates[st.name] = { error: e.message };
      }
    }));
    const box = $('streams-list');
    box.replaceChildren(...(r.streams.length ? [] : [make('p', 'hint', 'No streams (or none you may describe).')]));
    for (const st of r.streams) {
      const sec = make('section', 'ops-section');
      sec.dataset.stream = st.name;
      const rt = rates[st.name];
      const figs = make('div', 'figures');
      figs.append(figure('status', 'status', `${st.status} (${st.mode})`), figure('shards', 'shards', st.shards.length),
        figure('records', 'records acknowledged', st.records), figure('retention', 'retention (h)', st.retention_hours),
        figure('this_minute', 'records this minute', rt.error ? rt.error : rt.this_minute),
        figure('last_5_minutes', 'records, last 5 min', rt.error ? '—' : rt.last_5_minutes),
        figure('per_second', 'records/s (5 min)', rt.error ? '—' : rt.per_second),
        figure('invalid_5_minutes', 'invalid, last 5 min', rt.error ? '—' : rt.invalid_5_minutes),
        figure('delivery_table', 'delivered into', st.delivery_table),
        figure('backlog_records', 'delivery lag (records)', st.backlog_records),
        figure('backlog_bytes', 'delivery lag (bytes)', st.backlog_bytes));
      sec.append(make('h3', null, st.name), figs,
        resultTable([{ name: 'shard' }, { name: 'records acknowledged' }], st.shards.map((sh) => [sh.shard_id, sh.records])));
      box.append(sec);
    }
    window.__saleslake.streams = { streams: r.streams, rates };
  } catch (e) {
    $('streams-error').textContent = e.message;
  }
}

// ---- events page: rules, alarms, recent events, command runs, dead letters, topics

function brief(v) {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

async function openEvents() {
  $('events-error').textContent = '';
  try {
    const r = await api('GET', '/api/events');
    window.__saleslake.events = r;
    const none = (what) => make('p', 'hint', what);
    if (r.allowed.rules) {
      $('events-rules').replaceChildren(resultTable([{ name: 'rule' }, { name: 'pattern or schedule' }, { name: 'targets' }, { name: 'command runs' }],
        r.rules.map((x) => [x.name, x.schedule || brief(x.pattern), x.targets.map((t) => `${t.kind}: ${t.name}`).join('; '), x.runs_total])));
      $('events-alarms').replaceChildren(r.alarms.length ? resultTable(['alarm', 'event type', 'metric', 'statistic', 'comparison', 'threshold'].map((name) => ({ name })),
        r.alarms.map((a) => [a.name, a.event_type, a.metric, a.statistic, a.comparison, a.threshold])) : none('No alarms in pipeline.yaml.'));
      $('events-total').textContent = `(${r.events.length} newest of ${r.events_total})`;
      $('events-recent').replaceChildren(resultTable([{ name: 'time' }, { name: 'type' }, { name: 'id' }],
        r.events.map((e) => [brief(e.time), brief(e.type), brief(e.id)])));
      const runs = r.rules.flatMap((x) => x.runs.map((run) => [x.name, brief(run.time), brief(run.event), run.attempt ?? null, run.exit_code ?? null, run.timed_out ? 'yes' : 'no']));
      $('events-runs').replaceChildren(runs.length ? resultTable(['rule', 'time', 'event', 'attempt', 'exit code', 'timed out'].map((name) => ({ name })), runs) : none('No command runs.'));
    } else {
      for (const id of ['events-rules', 'events-alarms', 'events-recent', 'events-runs']) $(id).replaceChildren(none('needs events:ListRules'));
    }
    $('events-dead').replaceChildren(r.dead_letters.length ? resultTable(['dead letters of', 'total', 'latest time', 'latest reason'].map((name) => ({ name })),
      r.dead_letters.map((d) => [d.name, d.total, d.recent.length ? brief(d.recent[0].time) : null, d.recent.length ? brief(d.recent[0].reason) : null])) : none('No dead letters.'));
    if (r.allowed.topics) {
      $('events-topics').replaceChildren(resultTable([{ name: 'topic' }, { name: 'declared in pipeline.yaml' }], r.topics.map((t) => [t.name, t.declared ? 'yes' : 'no'])));
      $('events-subs').replaceChildren(resultTable(['topic', 'protocol', 'endpoint', 'confirmed', 'filter policy'].map((name) => ({ name })),
        r.subscriptions.map((x) => [brief(x.topic_arn), brief(x.protocol), brief(x.endpoint), x.confirmed ? 'yes' : 'pending', brief(x.filter_policy) || null])));
    } else {
      for (const id of ['events-topics', 'events-subs']) $(id).replaceChildren(none('needs sns:ListTopics and sns:ListSubscriptions'));
    }
  } catch (e) {
    $('events-error').textContent = e.message;
  }
}

function resultTable(columns, rows) {
  const table = make('table', 'grid-table');
  const head = make('tr');
  for (const c of columns) head.append(make('th', null, c.name));
  table.append(make('thead'));
  table.tHead.append(head);
  const tb = make('tbody');
  for (const row of rows) {
    const tr = make('tr');
    row.forEach((v) => tr.append(make('td', typeof v === 'number' ? 'num' : null, v === null ? 'NULL' : String(v))));
    tb.append(tr);
  }
  table.append(tb);
  return table;
}

// Cross-filter: clicking a bar or slice toggles its value in the filter of the tile's drill
// column; the product tile drills down to the order rows instead, keeping every filter.
function onChartClick(t, p) {
  if (!t.drill || p.name === undefined) return;
  if (t.drill === 'product_id') {
    drillToOrders(String(p.name));
    return;
  }
  const cur = Array.isArray(state.filters[t.drill]) ? state.filters[t.drill] : [];
  const v = String(p.name);
  const next = cur.includes(v) ? cur.filter((x) => x !== v) : [...cur, v];
  if (next.length) state.filters[t.drill] = next; else delete state.filters[t.drill];
  filtersChanged();
}

async function drillToOrders(product) {
  $('drill').hidden = false;
  $('drill-title').textContent = `Orders of ${product}`;
  const sql = 'SELECT purchase_date, product_id, amount, status, region FROM sales_data WHERE product_id = :product ORDER BY purchase_date DESC LIMIT 200';
  try {
    const r = await api('POST', '/api/query', { sql, params: { product }, filters: state.filters });
    window.__saleslake.drill = { columns: r.columns, rows: r.rows };
    $('drill-body').replaceChildren(resultTable(r.columns, r.rows));
  } catch (e) {
    $('drill-body').replaceChildren(make('p', 'error', e.message));
  }
}

function filtersChanged() {
  writeFiltersToUrl();
  syncFilterInputs();
  loadProductOptions();
  refresh();
}

// Cascading: the product list offers the products of the chosen regions only.
async function loadProductOptions() {
  const filters = {};
  if (Array.isArray(state.filters.region)) filters.region = state.filters.region;
  try {
    const r = await api('POST', '/api/query', { sql: 'SELECT DISTINCT product_id FROM sales_data ORDER BY 1', filters, limit: 5000 });
    const list = r.rows.map((row) => String(row[0]));
    $('f-product-list').replaceChildren(...list.map((p) => {
      const o = make('option');
      o.value = p;
      return o;
    }));
    window.__saleslake.products = { regions: filters.region || null, list };
  } catch { /* the tiles show the error */ }
}

async function loadFilterOptions() {
  for (const [col, id] of [['region', 'f-region'], ['status', 'f-status']]) {
    try {
      const r = await api('POST', '/api/query', { sql: `SELECT DISTINCT ${col} FROM sales_data ORDER BY 1`, limit: 1000 });
      const sel = $(id);
      sel.replaceChildren(...r.rows.map((row) => {
        const o = make('option', null, String(row[0]));
        o.value = String(row[0]);
        return o;
      }));
    } catch { /* the tiles show the error */ }
  }
  await loadProductOptions();
}

function syncFilterInputs() {
  for (const [col, id] of [['region', 'f-region'], ['status', 'f-status']]) {
    const chosen = Array.isArray(state.filters[col]) ? state.filters[col] : [];
    for (const o of $(id).options) o.selected = chosen.includes(o.value);
  }
  const d = state.filters.purchase_date || {};
  $('f-from').value = d.from || '';
  $('f-to').value = d.to || '';
  $('f-product').value = Array.isArray(state.filters.product_id) ? state.filters.product_id.join(', ') : '';
  const chips = $('chips');
  chips.replaceChildren();
  for (const [col, v] of Object.entries(state.filters)) {
    const label = Array.isArray(v) ? v.join(', ') : `${v.from || '…'} – ${v.to || '…'}`;
    const chip = make('span', 'chip', `${col}: ${label} ×`);
    chip.addEventListener('click', () => { delete state.filters[col]; filtersChanged(); });
    chips.append(chip);
  }
}

function readFilterInputs() {
  for (const [col, id] of [['region', 'f-region'], ['status', 'f-status']]) {
    const v = [...$(id).selectedOptions].map((o) => o.value);
    if (v.length) state.filters[col] = v; else delete state.filters[col];
  }
  const from = $('f-from').value, to = $('f-to').value;
  if (from || to) state.filters.purchase_date = { from: from || null, to: to || null };
  else delete state.filters.purchase_date;
  filtersChanged();
}

// ---- editing tiles (saved with the dashboard by Save; the server validates and writes it)

function setEditing(on) {
  state.editing = on;
  $('tiles').classList.toggle('editing', on);
  $('add-tile').hidden = !on;
  $('edit-dash').textContent = on ? 'Done' : 'Edit';
}

function dashboardChanged() {
  buildTiles();
  refresh();  // unchanged tiles come from the server's cache
}

function tileAction(id, act) {
  const tiles = state.dashboard.tiles;
  const i = tiles.findIndex((t) => t.id === id);
  if (i < 0) return;
  const t = tiles[i];
  const w = t.w || (t.type === 'kpi' ? 2 : 6);
  const h = t.h || (t.type === 'kpi' ? 1 : 3);
  if (act === 'left' && i > 0) [tiles[i - 1], tiles[i]] = [tiles[i], tiles[i - 1]];
  else if (act === 'right' && i + 1 < tiles.length) [tiles[i + 1], tiles[i]] = [tiles[i], tiles[i + 1]];
  else if (act === 'narrower') t.w = Math.max(1, w - 1);
  else if (act === 'wider') t.w = Math.min(12, w + 1);
  else if (act === 'shorter') t.h = Math.max(1, h - 1);
  else if (act === 'taller') t.h = Math.min(8, h + 1);
  else if (act === 'remove') tiles.splice(i, 1);
  else if (act === 'edit') { openTileEditor(i); return; }
  dashboardChanged();
}

function openTileEditor(index) {
  state.editingTile = index;
  const t = index >= 0 ? state.dashboard.tiles[index]
    : { id: `tile-${state.dashboard.tiles.length + 1}`, title: 'New tile', type: 'kpi', format: 'number', w: 2, sql: 'SELECT count(*) AS value FROM sales_data' };
  $('te-id').value = t.id;
  $('te-title').value = t.title;
  $('te-type').value = t.type;
  $('te-format').value = t.format || 'number';
  $('te-w').value = String(t.w || (t.type === 'kpi' ? 2 : 6));
  $('te-h').value = String(t.h || (t.type === 'kpi' ? 1 : 3));
  $('te-drill').value = t.drill || '';
  $('te-sql').value = t.sql || '';
  highlightNow($('te-sql'));
  $('te-stream').value = t.stream || '';
  $('te-error').textContent = '';
  $('te-result').replaceChildren();
  $('tile-editor').showModal();
}

async function previewTile() {
  $('te-error').textContent = '';
  try {
    const r = await api('POST', '/api/query', { sql: $('te-sql').value, filters: state.filters, limit: 20 });
    $('te-result').replaceChildren(resultTable(r.columns, r.rows));
  } catch (e) {
    $('te-error').textContent = e.message + errorWhere(e);
    $('te-result').replaceChildren();
  }
}

function applyTile() {
  const old = state.editingTile >= 0 ? state.dashboard.tiles[state.editingTile] : {};
  const t = {
    ...old,  // fields the editor does not show (forecast, job) stay
    id: $('te-id').value.trim(), title: $('te-title').value, type: $('te-type').value,
    format: $('te-format').value, w: Number($('te-w').value) || 6, h: Number($('te-h').value) || 3,
    sql: $('te-sql').value,
  };
  const drill = $('te-drill').value.trim();
  if (drill) t.drill = drill; else delete t.drill;
  if (t.type === 'live') {
    t.stream = $('te-stream').value.trim();
    delete t.sql;
  } else {
    delete t.stream;
    if (!t.sql.trim()) {
      $('te-error').textContent = 'a tile needs its SQL';
      return false;
    }
  }
  if (t.type !== 'line') delete t.forecast;
  if (t.type !== 'quality') delete t.job;
  const tiles = state.dashboard.tiles;
  const clash = tiles.findIndex((x) => x.id === t.id);
  if (clash >= 0 && clash !== state.editingTile) {
    $('te-error').textContent = `a tile "${t.id}" exists already`;
    return false;
  }
  if (state.editingTile >= 0) tiles[state.editingTile] = t; else tiles.push(t);
  dashboardChanged();
  return true;
}

function errorWhere(e) {
  const pos = e.body && e.body.error && e.body.error.position;
  return pos && pos.line ? ` (line ${pos.line}, column ${pos.column})` : '';
}

function stopTimer() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

function startTimer() {
  stopTimer();
  const s = state.dashboard ? state.dashboard.refresh_seconds : 0;
  if (!s || state.paused) return;
  state.timer = setInterval(() => { if (!document.hidden) refresh(); }, s * 1000);
}

async function saveDashboard() {
  const d = { ...state.dashboard };
  delete d.id;
  d.refresh_seconds = Number($('interval').value);
  $('dash-error').textContent = '';
  try {
    state.dashboard = { ...(await api('PUT', `/api/dashboards/${state.dashboardId}`, JSON.stringify(d, null, 2))), id: state.dashboardId };
    $('last-refresh').textContent = 'saved';
    window.__saleslake.saved = (window.__saleslake.saved || 0) + 1;
    setEditing(false);
    startTimer();
  } catch (e) {
    $('dash-error').textContent = e.message;
  }
}

// ---- SQL editor

const editor = { offset: 0, limit: 100, total: 0, controller: null, clientId: null, lastSql: '', names: [] };

async function loadCatalog() {
  try {
    const r = await api('GET', '/api/catalog/tables');
    const names = new Set();
    for (const t of r.tables) {
      names.add(t.name);
      for (const c of t.columns) names.add(c.name);
    }
    editor.names = [...names].sort();
    const box = $('catalog');
    box.replaceChildren(make('h3', null, 'Tables'));
    for (const t of r.tables) {
      const d = make('details');
      d.append(make('summary', null, `${t.name} (${t.rows} rows)`));
      const ul = make('ul');
      for (const c of t.columns) {
        const li = make('li', null, `${c.name} ${c.type}`);
        if (c.pii) li.append(' ', make('span', 'pii', 'PII'));
        ul.append(li);
      }
      d.append(ul);
      box.append(d);
    }
  } catch { /* shown when a query runs */ }
}

async function runSql(offset, explain = false) {
  editor.offset = offset;
  editor.lastSql = explain ? `EXPLAIN ANALYZE ${$('sql-text').value.trim().replace(/;\s*$/, '')}` : $('sql-text').value;
  editor.controller = new AbortController();
  editor.clientId = crypto.randomUUID();
  const clientId = editor.clientId;
  $('sql-run').disabled = true;
  $('sql-cancel').disabled = false;
  $('sql-error').textContent = '';
  $('sql-status').textContent = 'running…';
  const t0 = performance.now();
  try {
    const r = await api('POST', '/api/query', { sql: editor.lastSql, offset, limit: editor.limit, client_id: clientId }, editor.controller.signal);
    editor.total = r.total_rows;
    window.__saleslake.sql = r;
    // EXPLAIN ANALYZE answers one text column: shown as the plan, not as a grid.
    $('sql-plan').hidden = !explain;
    $('sql-plan').textContent = explain ? r.rows.map((row) => row[0]).join('\n') : '';
    $('sql-result').replaceChildren(...(explain ? [] : [resultTable(r.columns, r.rows)]));
    $('sql-status').textContent = `${r.total_rows} rows${r.cached ? ' (cached)' : ''} in ${Math.round(performance.now() - t0)} ms`;
    $('sql-page').textContent = r.total_rows ? `${offset + 1}–${offset + r.rows.length} of ${r.total_rows}` : '';
    $('sql-csv').disabled = false;
  } catch (e) {
    const cancelled = e.name === 'AbortError' || (e.body && e.body.error && e.body.error.code === 'QueryCancelled');
    $('sql-error').textContent = cancelled ? `cancelled: ${e.message}` : e.message + errorWhere(e);
    $('sql-status').textContent = '';
  } finally {
    editor.clientId = null;
    $('sql-run').disabled = false;
    $('sql-cancel').disabled = true;
    loadHistory();
  }
}

// Cancel stops the statement on the server (the query manager cancels it); the waiting request
// then answers QueryCancelled. If it already finished, the request is simply dropped.
async function cancelSql() {
  const id = editor.clientId;
  if (!id) return;
  try {
    const r = await api('POST', '/api/query/cancel', { client_id: id });
    if (!r.cancelled && editor.controller) editor.controller.abort();
  } catch {
    if (editor.controller) editor.controller.abort();
  }
}

function firstLine(sql) { return sql.replace(/\s+/g, ' ').trim(); }

async function loadHistory() {
  try {
    const r = await api('GET', '/api/queries');
    window.__saleslake.history = r.queries;
    $('history-list').replaceChildren(...r.queries.slice(0, 30).map((q) => {
      const li = make('li');
      li.append(make('span', `state-${q.state}`, q.state), ' ', firstLine(q.sql));
      li.title = q.error || q.sql;
      li.addEventListener('click', () => { $('sql-text').value = q.sql; highlightNow($('sql-text')); });
      return li;
    }));
  } catch { /* not allowed: no history */ }
}

async function loadSaved() {
  try {
    const r = await api('GET', '/api/saved-queries');
    window.__saleslake.saved_queries = r.queries;
    $('saved-list').replaceChildren(...r.queries.map((q) => {
      const li = make('li', null, `${q.name}: ${firstLine(q.sql)}`);
      li.title = q.sql;
      li.addEventListener('click', () => {
        $('sql-text').value = q.sql.replace(/\n$/, '');
        highlightNow($('sql-text'));
        $('sql-name').value = q.name;
      });
      return li;
    }));
  } catch { /* not allowed: no saved queries */ }
}

async function saveSql() {
  const name = $('sql-name').value.trim();
  $('sql-error').textContent = '';
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    $('sql-error').textContent = 'a query name is lower-case letters, digits, - and _';
    return;
  }
  try {
    await api('PUT', `/api/saved-queries/${name}`, { sql: $('sql-text').value });
    $('sql-status').textContent = `saved as ${name}`;
    await loadSaved();
  } catch (e) {
    $('sql-error').textContent = e.message;
  }
}

// Completion of table and column names (from /api/catalog/tables): the word before the caret
// is matched by prefix; Tab takes the first suggestion.
function wordBeforeCaret(el) {
  const upto = el.value.slice(0, el.selectionStart);
  const m = upto.match(/[A-Za-z_][A-Za-z0-9_]*$/);
  return m ? m[0] : '';
}

function suggestions(el) {
  const w = wordBeforeCaret(el).toLowerCase();
  if (!w) return [];
  return editor.names.filter((n) => n.toLowerCase().startsWith(w) && n.toLowerCase() !== w).slice(0, 8);
}

function showSuggestions() {
  const el = $('sql-text');
  const list = suggestions(el);
  $('sql-suggest').replaceChildren(...list.map((n) => {
    const sp = make('span', null, n);
    sp.addEventListener('click', () => { complete(n); el.focus(); });
    return sp;
  }));
}

function complete(name) {
  const el = $('sql-text');
  const w = wordBeforeCaret(el);
  const at = el.selectionStart;
  el.setRangeText(name, at - w.length, at, 'end');
  highlightNow(el);
  showSuggestions();
}

function csvCell(v) {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function downloadCsv() {
  const r = await api('POST', '/api/query', { sql: editor.lastSql, offset: 0, limit: 10000 });
  const lines = [r.columns.map((c) => csvCell(c.name)).join(',')];
  for (const row of r.rows) lines.push(row.map(csvCell).join(','));
  const blob = new Blob([lines.join('\n') + '\n'], { type: 'text/csv' });
  const a = make('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'query.csv';
  document.body.append(a);
  a.click();
  a.remove();
}

// ---- wiring

function wire() {
  attachHighlighter($('sql-text'));
  attachHighlighter($('te-sql'));
  $('login-password').addEventListener('submit', (e) => {
    e.preventDefault();
    login({ user_name: $('login-user').value, password: $('login-pass').value });
  });
  $('login-key').addEventListener('submit', (e) => {
    e.preventDefault();
    login({ access_key_id: $('login-key-id').value, secret_access_key: $('login-key-secret').value });
  });
  $('logout').addEventListener('click', async () => {
    try { await api('POST', '/api/logout'); } catch { /* signed out anyway */ }
    state.session = null;
    showLogin();
  });
  $('refresh-now').addEventListener('click', () => refresh());
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').textContent = state.paused ? 'Resume' : 'Pause';
    startTimer();
  });
  $('interval').addEventListener('change', () => {
    if (state.dashboard) state.dashboard.refresh_seconds = Number($('interval').value);
    startTimer();
  });
  $('save-dash').addEventListener('click', saveDashboard);
  for (const id of ['f-region', 'f-status', 'f-from', 'f-to']) $(id).addEventListener('change', readFilterInputs);
  $('f-clear').addEventListener('click', () => { state.filters = {}; filtersChanged(); });
  $('drill-close').addEventListener('click', () => { $('drill').hidden = true; });
  $('sql-run').addEventListener('click', () => runSql(0));
  $('sql-cancel').addEventListener('click', cancelSql);
  $('sql-explain').addEventListener('click', () => runSql(0, true));
  $('sql-save').addEventListener('click', saveSql);
  $('sql-text').addEventListener('input', showSuggestions);
  $('sql-text').addEventListener('keydown', (e) => {
    if (e.key !== 'Tab' || e.shiftKey) return;
    const list = suggestions($('sql-text'));
    if (!list.length) return;
    e.preventDefault();
    complete(list[0]);
  });
  $('edit-dash').addEventListener('click', () => setEditing(!state.editing));
  $('add-tile').addEventListener('click', () => openTileEditor(-1));
  $('te-preview').addEventListener('click', previewTile);
  $('tile-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (e.submitter && e.submitter.value === 'apply' && !applyTile()) return;
    $('tile-editor').close();
  });
  $('f-product').addEventListener('change', () => {
    const v = $('f-product').value.trim();
    if (v) state.filters.product_id = [v]; else delete state.filters.product_id;
    filtersChanged();
  });
  $('streams-refresh').addEventListener('click', openStreams);
  $('events-refresh').addEventListener('click', openEvents);
  $('sql-next').addEventListener('click', () => { if (editor.offset + editor.limit < editor.total) runSql(editor.offset + editor.limit); });
  $('sql-prev').addEventListener('click', () => runSql(Math.max(0, editor.offset - editor.limit)));
  $('sql-csv').addEventListener('click', downloadCsv);
  $('sql-text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) runSql(0); });
  window.addEventListener('hashchange', route);
}

wire();
route();
