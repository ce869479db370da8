// Drives the web console in Debian's chromium (headless, through playwright-core) against a
// real `saleslake serve`, and checks what the page shows against the same SQL run by
// `saleslake query`. Run by tests/server/console_browser_integration_test.cc:
//   node console_browser.mjs URL LAKE SALESLAKE ARTIFACT_DIR
// Environment: CONSOLE_USER / CONSOLE_PASSWORD (may read PII), VIEWER_USER / VIEWER_PASSWORD
// (denied saleslake:ReadPii), XSS_PRODUCT (a product id holding a script payload).
// Exit 0 and "console browser ok" when every check passed; otherwise the failed check.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, '../../../tools/peers/package.json'));
const { chromium } = require('playwright-core');

const [url, lake, saleslake, artifacts] = process.argv.slice(2);
const env = process.env;
mkdirSync(artifacts, { recursive: true });

function fail(msg) {
  throw new Error(msg);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}
function close(a, b) {
  if (a === null || b === null) return a === b;
  return Math.abs(Number(a) - Number(b)) <= 1e-6 * Math.max(1, Math.abs(Number(b)));
}

// The engine's answer, through the CLI (a separate process, not the server).
function engine(sql) {
  const out = execFileSync(saleslake, ['--lake', lake, 'query', '--format', 'json', sql], { encoding: 'utf8' });
  return JSON.parse(out);
}
// The tile SQL restricted to some regions, written independently of the server's rewriting.
function withRegions(sql, regions) {
  const list = regions.map((r) => `'${r.replace(/'/g, "''")}'`).join(', ');
  return sql.replace(/FROM sales_data/g, `FROM (SELECT * FROM sales_data WHERE region IN (${list})) AS sales_data`);
}

const browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
let step = 'start';
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1600 } });
  page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => { pageErrors.push(`dialog: ${d.message()}`); d.dismiss(); });

  step = 'unauthenticated API is 401';
  const anon = await page.request.post(`${url}/api/query`, { data: { sql: 'SELECT 1' } });
  check(anon.status() === 401, `unauthenticated /api/query gave ${anon.status()}`);

  step = 'sign in';
  await page.goto(`${url}/console/`);
  await page.fill('#login-user', env.CONSOLE_USER);
  await page.fill('#login-pass', env.CONSOLE_PASSWORD);
  await page.click('#login-submit');
  await page.waitForFunction(() => window.__saleslake.ready === true, null, { timeout: 60000 });
  const cookies = await context.cookies();
  const sc = cookies.find((c) => c.name === 'sl_session');
  check(sc && sc.httpOnly && sc.sameSite === 'Strict' && sc.expires > 0, `session cookie flags: ${JSON.stringify(sc)}`);

  let dashboard = await page.evaluate(async () => (await fetch('/api/dashboards/sales-performance')).json());
  let tiles = Object.fromEntries(dashboard.tiles.map((t) => [t.id, t]));
  // The tiles that run SQL (a live tile reads its stream's metrics, never the engine or cache).
  const sqlTiles = () => dashboard.tiles.filter((t) => t.sql).length;
  check(dashboard.tiles.some((t) => t.type === 'live' && t.stream === 'sales-events'), 'the default dashboard has no live tile');

  // Every KPI (from the DOM), and the chart data (from the echarts instances), against the engine.
  async function checkAll(regions, label) {
    const shown = await page.evaluate(() => {
      const out = { kpi: {}, charts: {}, errors: {} };
      for (const el of document.querySelectorAll('.tile')) {
        const id = el.dataset.tileId;
        const err = el.querySelector('.tile-error').textContent;
        if (err) out.errors[id] = err;
        const k = el.querySelector('.kpi-value');
        if (k) out.kpi[id] = k.dataset.value === '' ? null : Number(k.dataset.value);
        const inst = window.echarts && window.echarts.getInstanceByDom(el.querySelector('.body'));
        if (inst) {
          const o = inst.getOption();
          out.charts[id] = { x: o.xAxis && o.xAxis[0] ? o.xAxis[0].data : null, series: o.series.map((s) => s.data),
            names: o.series.map((s) => s.name) };
        }
      }
      return out;
    });
    check(Object.keys(shown.errors).length === 0, `${label}: tile errors ${JSON.stringify(shown.errors)}`);
    const scoped = (sql) => (regions ? withRegions(sql, regions) : sql);
    for (const id of ['revenue', 'orders', 'basket', 'refund_rate', 'customers', 'data_quality']) {
      const want = Object.values(engine(scoped(tiles[id].sql))[0])[0];
      check(close(shown.kpi[id], want), `${label}: KPI ${id} shows ${shown.kpi[id]}, engine says ${want}`);
    }
    for (const id of ['revenue_by_region', 'top_products', 'daily_revenue']) {
      const rows = engine(scoped(tiles[id].sql));
      const c = shown.charts[id];
      check(c, `${label}: no chart for ${id}`);
      const horizon = tiles[id].forecast ? tiles[id].forecast.horizon : 0;
      check(c.x.length === rows.length + horizon, `${label}: ${id} has ${c.x.length} points, engine ${rows.length} + ${horizon} forecast`);
      rows.forEach((r, i) => {
        const vals = Object.values(r);
        check(String(c.x[i]) === String(vals[0]), `${label}: ${id} point ${i} is ${c.x[i]}, engine ${vals[0]}`);
        check(close(c.series[0][i], vals[1]), `${label}: ${id} ${vals[0]} shows ${c.series[0][i]}, engine ${vals[1]}`);
      });
    }
    // The forecast bands equal `saleslake forecast` over the same series (printed to 2 decimals).
    if (tiles.daily_revenue.forecast) {
      const c = shown.charts.daily_revenue;
      const sql = scoped(tiles.daily_revenue.sql.replace(/, avg\(sum\(amount\)\) OVER \([^)]*\) AS revenue_7d/, ''));
      const fc = JSON.parse(execFileSync(saleslake, ['--lake', lake, 'forecast', '--query', sql, '--date', 'day', '--value', 'revenue',
        '--horizon', String(tiles.daily_revenue.forecast.horizon), '--format', 'json'], { encoding: 'utf8' }));
      const mean = c.series[c.names.indexOf('forecast')];
      const lo95 = c.series[c.names.indexOf('band 95% low')];
      const n0 = c.x.length - fc.length;
      check(fc.length === tiles.daily_revenue.forecast.horizon && String(c.x[n0]) === fc[0].date, `${label}: forecast starts ${c.x[n0]}, CLI ${fc[0].date}`);
      fc.forEach((f, i) => {
        check(Math.abs(mean[n0 + i] - f.forecast) <= 0.006 && Math.abs(lo95[n0 + i] - f.lo95) <= 0.006,
          `${label}: forecast ${f.date} shows ${mean[n0 + i]} [${lo95[n0 + i]}], CLI ${f.forecast} [${f.lo95}]`);
      });
    }
    const pie = engine(scoped(tiles.status_mix.sql));
    const shownPie = Object.fromEntries(shown.charts.status_mix.series[0].map((d) => [d.name, d.value]));
    for (const r of pie) check(close(shownPie[r.status], r.orders), `${label}: status ${r.status} shows ${shownPie[r.status]}, engine ${r.orders}`);
    const heat = engine(scoped(tiles.region_month.sql));
    const shownHeat = shown.charts.region_month.series[0].reduce((s, d) => s + d[2], 0);
    const wantHeat = heat.reduce((s, r) => s + r.revenue, 0);
    check(close(shownHeat, wantHeat), `${label}: heat map total ${shownHeat}, engine ${wantHeat}`);
    return shown;
  }

  // Where to click the bar of `category` (its index when a number) in the chart inside `selector`.
  const barPoint = (selector, category) => page.evaluate(([sel, cat]) => {
    const el = document.querySelector(sel);
    const inst = window.echarts.getInstanceByDom(el);
    const o = inst.getOption();
    const i = typeof cat === 'number' ? cat : o.xAxis[0].data.indexOf(cat);
    const [x, y] = inst.convertToPixel({ seriesIndex: 0 }, [i, o.series[0].data[i] / 2]);
    const box = el.getBoundingClientRect();
    return { x: box.left + x, y: box.top + y };
  }, [selector, category]);

  async function waitRefresh(before) {
    await page.waitForFunction((n) => window.__saleslake.refreshes > n && window.__saleslake.ready, before, { timeout: 60000 });
    // Let the charts apply their options.
    await page.waitForTimeout(200);
  }
  const refreshes = () => page.evaluate(() => window.__saleslake.refreshes);

  step = 'unfiltered dashboard equals the engine';
  const all = await checkAll(null, 'unfiltered');
  await page.screenshot({ path: path.join(artifacts, 'console-dashboard.png'), fullPage: true });

  step = 'the data-quality tile shows the quarantined rows of every run, linked to the rows';
  const runReports = () => {
    const dir = path.join(lake, '_system', 'runs', 'my-etl-job');
    return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
  };
  // The server's own rules may add a run at any time: every run reported before a refresh must
  // be shown after it, and everything shown must be a reported run with its count.
  const checkQuality = async (label) => {
    const before = runReports();
    const k = await page.evaluate(() => window.__saleslake.started);
    await page.click('#refresh-now');
    await page.waitForFunction((m) => window.__saleslake.refreshes > m && window.__saleslake.ready, k, { timeout: 60000 });
    const shownRuns = await page.evaluate(() => window.__saleslake.tiles.data_quality.runs);
    const after = Object.fromEntries(runReports().map((r) => [r.run_id, r.rows_quarantined]));
    check(before.every((r) => shownRuns.some((x) => x.run_id === r.run_id)) && shownRuns.every((r) => after[r.run_id] === r.rows_quarantined),
      `${label}: quality tile runs ${JSON.stringify(shownRuns)}, reports ${JSON.stringify(after)}`);
    return shownRuns;
  };
  const qRuns = await checkQuality('first load');
  const dirty = qRuns.find((r) => r.rows_quarantined > 0);
  check(dirty && dirty.rows_quarantined === 2, `no run with the 2 quarantined rows: ${JSON.stringify(qRuns)}`);
  const qBar = await barPoint('.tile[data-tile-id="data_quality"] .quality-chart', dirty.run_id);
  await page.mouse.click(qBar.x, qBar.y);
  await page.waitForFunction(() => window.__saleslake.quarantine, null, { timeout: 30000 });
  const qRows = await page.evaluate(() => window.__saleslake.quarantine);
  const jsonl = readFileSync(path.join(lake, 'quarantine', 'my-etl-job', dirty.run_id, 'rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  check(qRows.total === 2 && qRows.rows.length === 2 && qRows.rows.every((r, i) => r.reason === jsonl[i].reason && r.raw === jsonl[i].raw),
    `quarantine viewer: ${JSON.stringify(qRows)}`);
  const drillCells = await page.evaluate(() => [...document.querySelectorAll('#drill-body td')].map((td) => td.textContent));
  check(drillCells.some((c) => c.startsWith('malformed_row')), `the quarantine rows are not shown: ${drillCells}`);
  await page.click('#drill-close');
  await page.evaluate(() => { delete window.__saleslake.quarantine; });

  step = 'cross-filter click on a region bar';
  const regions = engine('SELECT DISTINCT region FROM sales_data ORDER BY 1').map((r) => r.region);
  const target = all.charts.revenue_by_region.x[1];
  let n = await refreshes();
  const point = await barPoint('.tile[data-tile-id="revenue_by_region"] .body', target);
  await page.mouse.click(point.x, point.y);
  await waitRefresh(n);
  const afterClick = await page.evaluate(() => location.hash);
  check(decodeURIComponent(afterClick).includes(target), `the URL does not carry the cross-filter: ${afterClick}`);
  await checkAll([target], `cross-filter ${target}`);

  step = 'region filter from the multi-select';
  n = await refreshes();
  await page.click('#f-clear');
  await waitRefresh(n);
  const chosen = [regions[0], regions[regions.length - 1]];
  n = await refreshes();
  await page.selectOption('#f-region', chosen);
  await waitRefresh(n);
  const filtered = await checkAll(chosen, `regions ${chosen}`);

  step = 'drill-down to order rows keeps the filters';
  const product = filtered.charts.top_products.x[0];
  const bar = await barPoint('.tile[data-tile-id="top_products"] .body', 0);
  await page.mouse.click(bar.x, bar.y);
  await page.waitForFunction(() => window.__saleslake.drill, null, { timeout: 30000 });
  const drill = await page.evaluate(() => window.__saleslake.drill);
  const wantRows = engine(withRegions(
    `SELECT count(*) AS n FROM sales_data WHERE product_id = '${product.replace(/'/g, "''")}'`, chosen))[0].n;
  check(drill.rows.length === Math.min(200, wantRows), `drill rows ${drill.rows.length}, engine ${wantRows}`);
  check(drill.rows.every((r) => r[1] === product && chosen.includes(r[4])), 'drill rows outside the filter');

  step = 'a reload of the shared URL shows the same view';
  const shared = page.url();
  await page.goto('about:blank');
  await page.goto(shared);
  await page.waitForFunction(() => window.__saleslake.ready === true, null, { timeout: 60000 });
  await page.waitForTimeout(200);
  await checkAll(chosen, 'reloaded');
  const selected = await page.evaluate(() => [...document.getElementById('f-region').selectedOptions].map((o) => o.value));
  check(JSON.stringify(selected) === JSON.stringify(chosen), `reloaded filter inputs: ${selected}`);

  step = 'a refresh with no new data runs no query';
  const metric = async (name) => {
    const text = await (await page.request.get(`${url}/metrics`)).text();
    const m = text.match(new RegExp(`^saleslake_${name} (\\d+)$`, 'm'));
    return m ? Number(m[1]) : 0;
  };
  const queriesBefore = await metric('console_queries_total');
  const hitsBefore = await metric('console_cache_hits_total');
  n = await refreshes();
  await page.click('#refresh-now');
  await waitRefresh(n);
  check(await metric('console_queries_total') === queriesBefore, 'a no-change refresh ran queries');
  check(await metric('console_cache_hits_total') >= hitsBefore + sqlTiles(), 'the refresh did not hit the cache');

  step = 'edit tiles in the UI: edit SQL and title, move, resize, add; save; reload';
  await page.click('#edit-dash');
  await page.click('.tile[data-tile-id="orders"] .tool-edit');
  await page.fill('#te-title', 'Completed orders <i>edited</i>');
  await page.fill('#te-sql', "SELECT count(*) AS value FROM sales_data WHERE status = 'COMPLETED'");
  await page.click('#te-apply');
  await page.click('.tile[data-tile-id="orders"] .tool-left');
  await page.click('.tile[data-tile-id="orders"] .tool-wider');
  await page.click('.tile[data-tile-id="status_mix"] .tool-taller');
  await page.click('#add-tile');
  await page.fill('#te-id', 'refunds');
  await page.fill('#te-title', 'Refunded amount');
  await page.selectOption('#te-format', 'currency');
  await page.fill('#te-sql', "SELECT sum(amount) AS value FROM sales_data WHERE status = 'REFUNDED'");
  const teHl = await page.evaluate(() => ({
    keywords: [...document.querySelectorAll('#te-sql-hl .tok-keyword')].map((e) => e.textContent),
    strings: [...document.querySelectorAll('#te-sql-hl .tok-string')].map((e) => e.textContent),
  }));
  check(JSON.stringify(teHl.keywords) === JSON.stringify(['SELECT', 'AS', 'FROM', 'WHERE']) && JSON.stringify(teHl.strings) === JSON.stringify(["'REFUNDED'"]),
    `the tile SQL editor's highlighting: ${JSON.stringify(teHl)}`);
  await page.click('#te-preview');
  await page.waitForSelector('#te-result table', { timeout: 30000 });
  await page.click('#te-apply');
  await page.selectOption('#interval', '10');
  await page.click('#save-dash');
  await page.waitForFunction(() => window.__saleslake.saved >= 1, null, { timeout: 30000 });
  check(await page.textContent('#dash-error') === '', `save error: ${await page.textContent('#dash-error')}`);
  const onDisk = JSON.parse(readFileSync(path.join(lake, 'dashboards', 'sales-performance.json'), 'utf8'));
  check(onDisk.refresh_seconds === 10 && onDisk.tiles.some((t) => t.id === 'refunds'), 'the saved file lacks the edits');
  // The server refuses a tile that writes, naming the position of its SQL; nothing is written.
  const refused = await page.evaluate(async () => {
    const s = await (await fetch('/api/session')).json();
    const body = '{"title": "t",\n "tiles": [{"id": "a", "title": "a", "type": "kpi",\n   "sql": "DROP TABLE sales_data"}]}';
    const r = await fetch('/api/dashboards/bad-save', { method: 'PUT', body, headers: { 'X-CSRF-Token': s.csrf_token } });
    const after = await fetch('/api/dashboards/bad-save');
    return { status: r.status, body: await r.json(), after: after.status };
  });
  check(refused.status === 400 && /bad-save\.json:3:11: a tile's SQL must be a query/.test(refused.body.error.message) &&
    refused.after === 404, `a writing tile was not refused with its position: ${JSON.stringify(refused)}`);
  await page.reload();
  await page.waitForFunction(() => window.__saleslake.ready === true, null, { timeout: 60000 });
  await page.waitForTimeout(200);
  const layout = await page.evaluate(() => [...document.querySelectorAll('.tile')].map((el) => ({
    id: el.dataset.tileId, title: el.querySelector('.tile-title').textContent, span: el.style.gridColumn,
    height: el.querySelector('.body').style.height, injected: el.querySelectorAll('h3 i').length,
    kpi: el.querySelector('.kpi-value') ? el.querySelector('.kpi-value').dataset.value : null })));
  check(layout[0].id === 'orders' && layout[0].title === 'Completed orders <i>edited</i>' && layout[0].injected === 0,
    `edited tile after reload: ${JSON.stringify(layout[0])}`);
  check(layout[0].span === 'span 3', `resized tile spans ${layout[0].span}`);
  check(layout.find((t) => t.id === 'status_mix').height === '22rem', 'the taller tile lost its height');
  const refundsShown = layout.find((t) => t.id === 'refunds');
  const refundsWant = engine(withRegions("SELECT sum(amount) AS value FROM sales_data WHERE status = 'REFUNDED'", chosen))[0].value;
  check(refundsShown && close(Number(refundsShown.kpi), refundsWant), `new tile shows ${refundsShown && refundsShown.kpi}, engine ${refundsWant}`);
  check(await page.inputValue('#interval') === '10', 'the saved interval did not survive the reload');
  dashboard = await page.evaluate(async () => (await fetch('/api/dashboards/sales-performance')).json());
  tiles = Object.fromEntries(dashboard.tiles.map((t) => [t.id, t]));
  await checkAll(chosen, 'edited dashboard');
  await page.screenshot({ path: path.join(artifacts, 'console-edited.png'), fullPage: true });

  step = 'cascading filters: the regions narrow the product list; product search filters';
  const products = await page.evaluate(() => window.__saleslake.products);
  const wantProducts = engine(withRegions('SELECT DISTINCT product_id FROM sales_data ORDER BY 1', chosen)).map((r) => r.product_id);
  check(JSON.stringify(products.regions) === JSON.stringify(chosen) && JSON.stringify(products.list) === JSON.stringify(wantProducts),
    `product list for ${chosen}: ${products.list.length} products, engine ${wantProducts.length}`);
  const allProducts = engine('SELECT count(DISTINCT product_id) AS n FROM sales_data')[0].n;
  check(wantProducts.length < allProducts, 'the region filter does not narrow the products in this data');
  n = await refreshes();
  await page.fill('#f-product', wantProducts[0]);
  await page.dispatchEvent('#f-product', 'change');
  await waitRefresh(n);
  const productOrders = engine(withRegions(`SELECT count(*) AS value FROM sales_data WHERE status = 'COMPLETED' AND product_id = '${wantProducts[0].replace(/'/g, "''")}'`, chosen))[0].value;
  const shownOrders = await page.evaluate(() => Number(document.querySelector('.tile[data-tile-id="orders"] .kpi-value').dataset.value));
  check(close(shownOrders, productOrders), `orders of ${wantProducts[0]}: ${shownOrders}, engine ${productOrders}`);
  n = await refreshes();
  await page.fill('#f-product', '');
  await page.dispatchEvent('#f-product', 'change');
  await waitRefresh(n);

  step = 'new data loaded by a job appears by the 10 s refresh, without a reload or a blank frame';
  if (env.NEW_CSV) {
    // Watch every tile: a KPI or chart body that goes empty between two renders is a blank frame.
    // A full page reload would drop window.__sameDocument.
    await page.evaluate(() => {
      window.__sameDocument = true;
      window.__blank = [];
      const obs = new MutationObserver(() => {
        for (const el of document.querySelectorAll('.tile .body')) {
          if (el.childElementCount === 0) window.__blank.push(el.parentElement.dataset.tileId);
        }
      });
      obs.observe(document.getElementById('tiles'), { childList: true, subtree: true, characterData: true });
    });
    // Paused while the job commits (and no refresh in flight), so that no refresh straddles the
    // commit; Resume restarts the 10 s timer, whose next tick must bring the new data.
    await page.click('#pause');
    await page.waitForFunction(() => window.__saleslake.refreshes === window.__saleslake.started, null, { timeout: 60000 });
    const before = await metric('console_queries_total');
    // The server's own rules may already be crawling and running the job for this upload (one
    // run of a job at a time): a start-job that finds it running waits for it, bounded.
    for (const args of [['upload', env.NEW_CSV], ['crawl'], ['start-job', '--job-name', 'my-etl-job']]) {
      for (let attempt = 0; ; attempt++) {
        try {
          execFileSync(saleslake, ['--lake', lake, ...args], { encoding: 'utf8', stdio: 'pipe' });
          break;
        } catch (e) {
          if (attempt >= 120 || !String(e.stderr).includes('already running')) throw e;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
        }
      }
    }
    // A refresh the timer starts after the commit (none is clicked): at most ~10 s away.
    const startedAtCommit = await page.evaluate(() => window.__saleslake.started);
    check(await page.textContent('#pause') === 'Resume', 'the pause button does not offer Resume');
    await page.click('#pause');
    await page.waitForFunction((k) => window.__saleslake.refreshes > k && window.__saleslake.ready, startedAtCommit, { timeout: 60000 });
    await page.waitForTimeout(200);
    check(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
    await checkAll(chosen, 'after new data');
    check(await metric('console_queries_total') === before + sqlTiles(), 'the tiles over the changed table did not run again (once each)');
    const blank = await page.evaluate(() => window.__blank);
    check(blank.length === 0, `tiles went blank during the refresh: ${blank}`);

    step = 'a timed refresh with no new data runs no query';
    const quiet = await metric('console_queries_total');
    const hits = await metric('console_cache_hits_total');
    const k = await page.evaluate(() => window.__saleslake.started);
    await page.waitForFunction((m) => window.__saleslake.refreshes > m && window.__saleslake.ready, k, { timeout: 60000 });
    check(await metric('console_queries_total') === quiet, 'a no-change timed refresh ran queries');
    check(await metric('console_cache_hits_total') >= hits + sqlTiles(), 'the timed refresh did not hit the cache');
    await checkQuality('after new data');
    await page.screenshot({ path: path.join(artifacts, 'console-refreshed.png'), fullPage: true });
  }

  step = 'the catalog page: columns with PII and partition tags, partitions, snapshots';
  await page.goto(`${url}/console/#/catalog/sales_data`);
  await page.waitForFunction(() => window.__saleslake.table && window.__saleslake.table.name === 'sales_data', null, { timeout: 30000 });
  const table = await page.evaluate(() => window.__saleslake.table);
  const total = engine('SELECT count(*) AS n FROM sales_data')[0].n;
  check(table.partitions.reduce((a, p) => a + p.rows, 0) === total, `partition rows ${table.partitions.reduce((a, p) => a + p.rows, 0)}, engine ${total}`);
  const wantParts = engine("SELECT count(DISTINCT region || '/' || purchase_month) AS n FROM sales_data")[0].n;
  check(table.partitions.length === wantParts, `partitions ${table.partitions.length}, engine ${wantParts}`);
  check(table.columns.find((c) => c.name === 'customer_id').pii && table.columns.find((c) => c.name === 'region').partition, 'column tags');
  check(table.snapshots.length >= 2 && table.snapshots[table.snapshots.length - 1].id === table.current_snapshot_id, 'snapshots');
  const wantDdl = execFileSync(saleslake, ['--lake', lake, 'catalog', 'export-ddl', 'sales_data', '--dialect', 'athena',
    '--location-uri', table.ddl.athena.match(/LOCATION '(s3:\/\/[^/]+)\//)[1]], { encoding: 'utf8' });
  check(await page.textContent('#table-ddl') === table.ddl.athena && table.ddl.athena === wantDdl, `DDL: ${table.ddl.athena}`);
  const shownParts = await page.evaluate(() => document.querySelectorAll('#table-partitions tbody tr').length);
  check(shownParts === wantParts, `the page lists ${shownParts} partitions`);
  step = 'time travel in the catalog: a past snapshot shows its own files and rows';
  const past = table.snapshots.find((sn) => sn.rows > 0 && sn.rows < table.snapshots[table.snapshots.length - 1].rows);
  check(past, `no earlier snapshot with fewer rows: ${JSON.stringify(table.snapshots)}`);
  await page.click(`#table-snapshots tr[data-snapshot-id="${past.id}"]`);
  await page.waitForFunction((id) => window.__saleslake.snapshot && window.__saleslake.snapshot.id === id, past.id, { timeout: 30000 });
  const asOf = await page.evaluate(() => window.__saleslake.snapshot);
  check(!asOf.error && asOf.partitions.reduce((a, x) => a + x.rows, 0) === past.rows && asOf.partitions.reduce((a, x) => a + x.files, 0) === past.files,
    `snapshot ${past.id} (${past.files} files, ${past.rows} rows) shows ${JSON.stringify(asOf)}`);
  check(await page.evaluate(() => document.querySelectorAll('#table-at-partitions tbody tr').length) === asOf.partitions.length, 'the snapshot partitions are not listed');
  await page.screenshot({ path: path.join(artifacts, 'console-catalog.png'), fullPage: true });

  step = 'the jobs page: run history and the quarantine viewer';
  await page.goto(`${url}/console/#/jobs`);
  await page.waitForFunction(() => window.__saleslake.runs, null, { timeout: 30000 });
  const reports = runReports();
  const listed = await page.evaluate(() => window.__saleslake.runs.map((r) => [r.run_id, r.rows_loaded]));
  check(reports.every((r) => listed.some(([id, n]) => id === r.run_id && n === r.rows_loaded)),
    `jobs page runs ${JSON.stringify(listed)}`);
  await page.click(`#runs tr[data-run-id="${dirty.run_id}"]`);
  await page.waitForFunction(() => window.__saleslake.quarantine, null, { timeout: 30000 });
  check(await page.evaluate(() => document.querySelectorAll('#quarantine-body tbody tr').length) === 2, 'the jobs page quarantine viewer');
  await page.screenshot({ path: path.join(artifacts, 'console-jobs.png'), fullPage: true });

  step = 'CSRF';
  const csrf = await page.evaluate(async () => {
    const body = JSON.stringify({ title: 'x', tiles: [] });
    const none = await fetch('/api/dashboards/csrf-test', { method: 'PUT', body, headers: { 'Content-Type': 'application/json' } });
    const wrong = await fetch('/api/dashboards/csrf-test', { method: 'PUT', body, headers: { 'X-CSRF-Token': 'f'.repeat(64) } });
    const logout = await fetch('/api/logout', { method: 'POST' });
    return [none.status, wrong.status, logout.status];
  });
  check(csrf.every((s) => s === 403), `state-changing requests without the CSRF token gave ${csrf}`);

  step = 'stored XSS in data and titles stays inert';
  const xssDash = {
    title: '<img src=x onerror="window.__xss=1">',
    refresh_seconds: 0,
    tiles: [
      { id: 'x1', title: '<script>window.__xss=2</script>', type: 'table', sql: "SELECT product_id, '<b onmouseover=window.__xss=3>' AS t FROM sales_data WHERE product_id LIKE '%<%' LIMIT 5" },
      { id: 'x2', title: '"><svg onload=window.__xss=4>', type: 'bar', sql: "SELECT product_id, sum(amount) AS revenue FROM sales_data WHERE product_id LIKE '%<%' GROUP BY 1" },
      { id: 'x3', title: 'bad sql', type: 'kpi', sql: 'SELEC nonsense' },
    ],
  };
  const saved = await page.evaluate(async (d) => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch('/api/dashboards/xss', { method: 'PUT', body: JSON.stringify(d), headers: { 'X-CSRF-Token': s.csrf_token } });
    return r.status;
  }, xssDash);
  check(saved === 200, `saving the XSS dashboard gave ${saved}`);
  await page.goto(`${url}/console/#/d/xss`);
  await page.waitForFunction(() => window.__saleslake.ready === true, null, { timeout: 60000 });
  // Hover the bar and the table so tooltips and mouse handlers would fire.
  await page.hover('.tile[data-tile-id="x2"] .body');
  await page.waitForTimeout(300);
  const xss = await page.evaluate(() => ({
    fired: window.__xss,
    injected: document.querySelectorAll('#tiles img, #tiles script, #tiles svg[onload], #dash-title img, #tiles b').length,
    title: document.getElementById('dash-title').textContent,
    cell: window.__saleslake.tiles.x1 && window.__saleslake.tiles.x1.rows.length,
    badSqlError: document.querySelector('.tile[data-tile-id="x3"] .tile-error').textContent,
    others: document.querySelector('.tile[data-tile-id="x1"] .tile-error').textContent,
  }));
  check(xss.fired === undefined, `an XSS payload ran: ${xss.fired}`);
  check(xss.injected === 0, `injected elements: ${xss.injected}`);
  check(xss.title.includes('<img'), 'the title is not shown as text');
  check(xss.cell >= 1, `the XSS rows are not in the data (${xss.cell}): XSS_PRODUCT=${env.XSS_PRODUCT}`);
  check(/line 1/.test(xss.badSqlError) && xss.others === '', `per-tile errors: ${JSON.stringify(xss)}`);
  await page.screenshot({ path: path.join(artifacts, 'console-xss.png'), fullPage: true });

  step = 'a principal without saleslake:ReadPii never receives customer_id values';
  const viewer = await browser.newContext();
  const vp = await viewer.newPage();
  const login = await vp.request.post(`${url}/api/login`, { data: { user_name: env.VIEWER_USER, password: env.VIEWER_PASSWORD } });
  check(login.status() === 200, `viewer sign-in gave ${login.status()}`);
  const vs = await login.json();
  check(vs.read_pii === false, 'viewer may read PII?');
  for (const sql of ['SELECT customer_id FROM sales_data LIMIT 20', 'SELECT s.customer_id AS c FROM sales_data s LIMIT 20',
    'SELECT max(customer_id) AS m FROM sales_data', 'SELECT * FROM sales_data LIMIT 20']) {
    const r = await vp.request.post(`${url}/api/query`, { data: { sql }, headers: { 'X-CSRF-Token': vs.csrf_token } });
    const body = await r.text();
    check(!/tok_[0-9a-f]{8}/.test(body), `viewer received a customer_id through "${sql}": ${body.slice(0, 200)}`);
  }
  const vq = await vp.request.get(`${url}/api/runs/my-etl-job/${dirty.run_id}/quarantine`);
  check(vq.status() === 403, `the viewer read quarantined (raw, untokenized) rows: ${vq.status()}`);
  const bad = await vp.request.post(`${url}/api/query`, { data: { sql: 'SELECT 1', offset: 'x' }, headers: { 'X-CSRF-Token': vs.csrf_token } });
  check(bad.status() === 400, `a field of the wrong type gave ${bad.status()}`);
  const badLogin = await vp.request.post(`${url}/api/login`, { data: { user_name: 5, password: [] } });
  check(badLogin.status() === 400, `a sign-in with fields of the wrong type gave ${badLogin.status()}`);
  const adminSee = await page.evaluate(async () => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch('/api/query', { method: 'POST', body: JSON.stringify({ sql: 'SELECT customer_id FROM sales_data LIMIT 1' }), headers: { 'X-CSRF-Token': s.csrf_token } });
    return (await r.json()).rows[0][0];
  });
  check(/^tok_/.test(adminSee), `the PII reader does not see customer_id: ${adminSee}`);

  step = 'the SQL editor runs a query, pages and downloads CSV';
  await page.goto(`${url}/console/#/sql`);
  await page.waitForSelector('#sql-view:not([hidden])');
  const editorSql = 'SELECT region, count(*) AS orders, sum(amount) AS revenue FROM sales_data GROUP BY region ORDER BY region';
  await page.fill('#sql-text', editorSql);
  await page.click('#sql-run');
  await page.waitForFunction(() => window.__saleslake.sql, null, { timeout: 30000 });
  const grid = await page.evaluate(() => [...document.querySelectorAll('#sql-result tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)));
  const want = engine(editorSql);
  check(grid.length === want.length, `editor grid has ${grid.length} rows, engine ${want.length}`);
  want.forEach((r, i) => check(grid[i][0] === r.region && Number(grid[i][1]) === r.orders && close(Number(grid[i][2]), r.revenue),
    `editor row ${i}: ${grid[i]} vs ${JSON.stringify(r)}`));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#sql-csv')]);
  const csvPath = path.join(artifacts, 'query.csv');
  await download.saveAs(csvPath);
  const csv = (await import('node:fs')).readFileSync(csvPath, 'utf8').trim().split('\n');
  check(csv[0] === 'region,orders,revenue' && csv.length === want.length + 1, `CSV: ${csv.slice(0, 2)}`);
  await page.fill('#sql-text', 'SELECT nope FROM sales_data');
  await page.click('#sql-run');
  await page.waitForFunction(() => document.getElementById('sql-error').textContent !== '', null, { timeout: 30000 });
  check(/line 1/.test(await page.textContent('#sql-error')), 'the editor shows no error position');

  step = 'the SQL editor shows EXPLAIN ANALYZE as a plan';
  await page.fill('#sql-text', 'SELECT region, count(*) AS n FROM sales_data GROUP BY region');
  await page.click('#sql-explain');
  await page.waitForFunction(() => !document.getElementById('sql-plan').hidden && document.getElementById('sql-plan').textContent.includes('Scan'), null, { timeout: 30000 });
  check(/Aggregate/.test(await page.textContent('#sql-plan')) && /rows: \d+/.test(await page.textContent('#sql-plan')), 'the plan lacks operators with rows');

  step = 'the SQL editor completes table and column names';
  await page.waitForFunction(() => document.querySelectorAll('#catalog details').length > 0, null, { timeout: 30000 });
  await page.fill('#sql-text', 'SELECT regi');
  await page.press('#sql-text', 'Tab');
  await page.type('#sql-text', ', count(*) AS n FROM sales_d');
  check((await page.textContent('#sql-suggest')).startsWith('sales_data'), `suggestions: ${await page.textContent('#sql-suggest')}`);
  await page.press('#sql-text', 'Tab');
  check(await page.inputValue('#sql-text') === 'SELECT region, count(*) AS n FROM sales_data', `completed: ${await page.inputValue('#sql-text')}`);

  step = 'the SQL editor highlights SQL; markup inside it stays text and never runs';
  const hlSql = "SELECT 'a<img src=x onerror=window.__xss=7>b' AS s, 42 AS n -- <b onmouseover=window.__xss=8>x</b>\nFROM sales_data LIMIT 1";
  await page.fill('#sql-text', hlSql);
  const hl = await page.evaluate(() => {
    const pre = document.getElementById('sql-text-hl');
    const of = (cls) => [...pre.querySelectorAll(`.tok-${cls}`)].map((e) => e.textContent);
    return { text: pre.textContent, keyword: of('keyword'), string: of('string'), number: of('number'), comment: of('comment'),
      ident: of('ident'), injected: pre.querySelectorAll('img, b, script').length,
      keywordColor: getComputedStyle(pre.querySelector('.tok-keyword')).color, identColor: getComputedStyle(pre.querySelector('.tok-ident')).color,
      inputColor: getComputedStyle(document.getElementById('sql-text')).color };
  });
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  check(hl.text.startsWith(hlSql) && same(hl.keyword, ['SELECT', 'AS', 'AS', 'FROM', 'LIMIT']) &&
    same(hl.string, ["'a<img src=x onerror=window.__xss=7>b'"]) && same(hl.number, ['42', '1']) &&
    same(hl.comment, ['-- <b onmouseover=window.__xss=8>x</b>']) && same(hl.ident, ['s', 'n', 'sales_data']) && hl.injected === 0,
  `highlighting: ${JSON.stringify(hl)}`);
  check(hl.keywordColor !== hl.identColor && hl.inputColor === 'rgba(0, 0, 0, 0)', `highlight colours: ${JSON.stringify(hl)}`);
  await page.evaluate(() => { delete window.__saleslake.sql; });
  await page.click('#sql-run');
  await page.waitForFunction(() => window.__saleslake.sql, null, { timeout: 30000 });
  check(await page.textContent('#sql-result tbody td') === 'a<img src=x onerror=window.__xss=7>b', 'the string is not shown as text in the grid');
  await page.hover('#sql-text');
  await page.hover('#sql-result tbody td');
  await page.waitForTimeout(200);
  check(await page.evaluate(() => window.__xss === undefined && document.querySelectorAll('#sql-view img, #sql-view b').length === 0),
    'markup in the SQL or its result ran or was inserted');
  await page.screenshot({ path: path.join(artifacts, 'console-sql-highlight.png'), fullPage: true });

  step = 'saved queries are files in queries/ and come back after a reload';
  const savedSql = 'SELECT region, count(*) AS n FROM sales_data GROUP BY region';
  await page.fill('#sql-text', savedSql);
  await page.fill('#sql-name', 'orders-by-region');
  await page.click('#sql-save');
  await page.waitForFunction(() => (window.__saleslake.saved_queries || []).some((q) => q.name === 'orders-by-region'), null, { timeout: 30000 });
  check(readFileSync(path.join(lake, 'queries', 'orders-by-region.sql'), 'utf8') === `${savedSql}
`, 'queries/orders-by-region.sql');
  await page.reload();
  await page.waitForFunction(() => (window.__saleslake.saved_queries || []).length > 0, null, { timeout: 30000 });
  await page.fill('#sql-text', '');
  await page.click('#saved-list li');
  check(await page.inputValue('#sql-text') === savedSql, 'a saved query does not load into the editor');

  step = 'Cancel stops a long query on the server; the history shows it';
  const longSql = 'SELECT count(*) AS n FROM sales_data a CROSS JOIN sales_data b CROSS JOIN sales_data c';
  await page.fill('#sql-text', longSql);
  await page.click('#sql-run');
  const running = async () => page.evaluate(async (q) => {
    const r = await (await fetch('/api/queries')).json();
    const h = r.queries.find((x) => x.sql === q);
    return h ? h.state : null;
  }, longSql);
  for (let i = 0; i < 300 && (await running()) !== 'RUNNING'; i++) await page.waitForTimeout(100);
  check(await running() === 'RUNNING', `the long query is ${await running()}`);
  await page.click('#sql-cancel');
  await page.waitForFunction(() => document.getElementById('sql-error').textContent.startsWith('cancelled'), null, { timeout: 30000 });
  check(await running() === 'CANCELLED', `after Cancel the query is ${await running()}`);
  await page.waitForFunction(() => (window.__saleslake.history || []).length > 0 && window.__saleslake.history[0].state === 'CANCELLED', null, { timeout: 30000 });
  const history = await page.evaluate(() => window.__saleslake.history.map((q) => [q.state, q.sql]));
  check(history.some(([st, q]) => st === 'SUCCEEDED' && q === editorSql), `history lacks the editor query: ${JSON.stringify(history.slice(0, 5))}`);
  check(await page.textContent('#history-list li') !== '', 'the history list is empty');
  await page.screenshot({ path: path.join(artifacts, 'console-sql.png'), fullPage: true });

  step = 'the live tile shows the records put through the Kinesis API';
  const { KinesisClient, PutRecordsCommand, ListShardsCommand } = require('@aws-sdk/client-kinesis');
  const { NodeHttpHandler } = require('@smithy/node-http-handler');
  const kinesis = new KinesisClient({ endpoint: url, region: 'us-east-1', maxAttempts: 1, requestHandler: new NodeHttpHandler() });
  const enc = new TextEncoder();
  const liveRegions = ['Europe', 'Asia Pacific', 'Africa'];
  const liveRecords = Array.from({ length: 12 }, (_, i) => ({
    purchase_date: '2025-06-01', customer_id: `CUST-9${String(i).padStart(5, '0')}`, product_id: `SKU-0000${i % 4}`,
    amount: Math.round((10.25 + i * 3.5) * 100) / 100, region: liveRegions[i % 3], status: i % 4 === 0 ? 'REFUNDED' : 'COMPLETED',
  }));
  const invalidRecords = ['not json at all', '[1, 2, 3]'];  // delivery quarantines them: "invalid"
  const put = await kinesis.send(new PutRecordsCommand({ StreamName: 'sales-events', Records: [
    ...liveRecords.map((r, i) => ({ Data: enc.encode(JSON.stringify(r)), PartitionKey: `p${i}` })),
    ...invalidRecords.map((d, i) => ({ Data: enc.encode(d), PartitionKey: `bad${i}` })),
  ] }));
  check(put.FailedRecordCount === 0, `PutRecords failed ${put.FailedRecordCount} records`);
  const putCount = liveRecords.length + invalidRecords.length;
  const wantRevenue = liveRecords.reduce((a, r) => a + r.amount, 0);
  const wantRefunds = liveRecords.filter((r) => r.status === 'REFUNDED').length;
  await page.goto('about:blank');
  await page.goto(`${url}/console/#/d/sales-performance`);
  await page.waitForFunction(() => window.__saleslake.ready === true, null, { timeout: 60000 });
  await page.waitForTimeout(200);
  const live = await page.evaluate(async () => {
    const el = document.querySelector('.tile[data-tile-id="live"]');
    const o = window.echarts.getInstanceByDom(el.querySelector('.body')).getOption();
    const api = await (await fetch('/api/streams/sales-events/metrics')).json();
    return { series: Object.fromEntries(o.series.map((x) => [x.name, x.data])), x: o.xAxis[0].data,
      error: el.querySelector('.tile-error').textContent, rows: window.__saleslake.tiles.live.rows, api };
  });
  const sumOf = (a) => a.reduce((x, y) => x + (y || 0), 0);
  check(live.error === '', `live tile error: ${live.error}`);
  check(sumOf(live.series.orders) === liveRecords.length, `live orders ${sumOf(live.series.orders)}, put ${liveRecords.length}`);
  check(close(sumOf(live.series.revenue), wantRevenue), `live revenue ${sumOf(live.series.revenue)}, put ${wantRevenue}`);
  check(sumOf(live.series.invalid) === invalidRecords.length, `live invalid ${sumOf(live.series.invalid)}, put ${invalidRecords.length}`);
  check(sumOf(live.rows.map((r) => r[3])) === wantRefunds, `live refunds ${sumOf(live.rows.map((r) => r[3]))}, put ${wantRefunds}`);
  // Minute by minute, the chart equals the metrics API.
  for (const w of live.api.windows) {
    const i = live.x.indexOf(new Date(w.window_start_ms).toISOString().slice(11, 16));
    check(i >= 0, `minute ${w.window_start_ms} of the API is not in the tile`);
  }
  const apiOrders = sumOf(live.api.windows.map((w) => w.orders));
  check(apiOrders === liveRecords.length, `the metrics API counts ${apiOrders} orders`);
  const tileEl = await page.$('.tile[data-tile-id="live"]');
  await tileEl.screenshot({ path: path.join(artifacts, 'console-live.png') });

  step = 'the streams page: shards, records, rates and delivery lag against the Kinesis API';
  const shardsApi = (await kinesis.send(new ListShardsCommand({ StreamName: 'sales-events' }))).Shards.map((x) => x.ShardId);
  const perShard = {};
  for (const r of put.Records) perShard[r.ShardId] = (perShard[r.ShardId] || 0) + 1;
  await page.goto(`${url}/console/#/streams`);
  await page.waitForFunction(() => window.__saleslake.streams, null, { timeout: 30000 });
  const sp = await page.evaluate(() => {
    const sec = document.querySelector('section[data-stream="sales-events"]');
    const fig = (n) => sec.querySelector(`[data-figure="${n}"]`).textContent;
    return { records: fig('records'), last5: fig('last_5_minutes'), invalid5: fig('invalid_5_minutes'), backlog: fig('backlog_records'),
      table: fig('delivery_table'), shards: [...sec.querySelectorAll('tbody tr')].map((tr) => [tr.children[0].textContent, Number(tr.children[1].textContent)]) };
  });
  check(same(sp.shards.map((x) => x[0]), shardsApi), `streams page shards ${JSON.stringify(sp.shards)}, ListShards ${shardsApi}`);
  check(sp.shards.every(([id, n]) => n === (perShard[id] || 0)), `records per shard ${JSON.stringify(sp.shards)}, PutRecords ${JSON.stringify(perShard)}`);
  check(Number(sp.records) === putCount && Number(sp.last5) === putCount && Number(sp.invalid5) === invalidRecords.length,
    `streams page figures ${JSON.stringify(sp)}, put ${putCount}`);
  // The delivery takes everything acknowledged at once (every 60 s): nothing or all of it waits.
  check(sp.table === 'sales_data' && (Number(sp.backlog) === 0 || Number(sp.backlog) === putCount), `delivery lag ${JSON.stringify(sp)}`);
  await page.screenshot({ path: path.join(artifacts, 'console-streams.png'), fullPage: true });

  step = 'the events page: rules, recent events, dead letters, topics and subscriptions';
  await page.goto(`${url}/console/#/events`);
  await page.waitForFunction(() => window.__saleslake.events, null, { timeout: 30000 });
  const ev = await page.evaluate(() => ({
    data: window.__saleslake.events,
    rules: [...document.querySelectorAll('#events-rules tbody tr')].map((tr) => tr.children[0].textContent),
    topics: [...document.querySelectorAll('#events-topics tbody tr')].map((tr) => tr.children[0].textContent),
    recent: [...document.querySelectorAll('#events-recent tbody tr')].map((tr) => tr.children[2].textContent),
  }));
  const yaml = readFileSync(path.join(lake, 'pipeline.yaml'), 'utf8');
  const wantRules = [...yaml.split(/^rules:/m)[1].split(/^\S/m)[0].matchAll(/^  - name: (\S+)/gm)].map((m) => m[1]);
  check(wantRules.length > 0 && same(ev.rules, wantRules), `events page rules ${ev.rules}, pipeline.yaml ${wantRules}`);
  const journal = readFileSync(path.join(lake, '_system', 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id);
  const wantRecent = journal.slice(0, ev.data.events_total).slice(-ev.recent.length).reverse();
  check(ev.recent.length === Math.min(50, ev.data.events_total) && ev.recent.length > 0 && same(ev.recent, wantRecent),
    `recent events ${ev.recent.slice(0, 3)}, journal ${wantRecent.slice(0, 3)}`);
  const awsSns = (...args) => JSON.parse(execFileSync('/usr/bin/aws', ['--endpoint-url', url, '--output', 'json', 'sns', ...args], { encoding: 'utf8' }));
  const topicsApi = awsSns('list-topics').Topics.map((t) => t.TopicArn.split(':').pop()).sort();
  check(topicsApi.length > 0 && same([...ev.topics].sort(), topicsApi), `events page topics ${ev.topics}, SNS ${topicsApi}`);
  const subsApi = awsSns('list-subscriptions').Subscriptions;
  check(subsApi.length === ev.data.subscriptions.length && subsApi.every((x) => ev.data.subscriptions.some((y) =>
    y.arn === x.SubscriptionArn && y.endpoint === x.Endpoint && y.protocol === x.Protocol)), `subscriptions ${JSON.stringify(ev.data.subscriptions)}, SNS ${JSON.stringify(subsApi)}`);
  check(!JSON.stringify(ev.data).includes('"token"'), 'the events page received confirmation tokens');
  const dlqDir = path.join(lake, '_system', 'dlq');
  let dlqFiles = [];
  try { dlqFiles = readdirSync(dlqDir).filter((f) => f.endsWith('.jsonl')); } catch { /* none */ }
  check(ev.data.dead_letters.length === dlqFiles.length, `dead letters ${JSON.stringify(ev.data.dead_letters)}, files ${dlqFiles}`);
  await page.screenshot({ path: path.join(artifacts, 'console-events.png'), fullPage: true });

  step = 'the streams and events APIs follow IAM';
  const denied = await browser.newContext();
  const dp = await denied.newPage();
  const dl = await dp.request.post(`${url}/api/login`, { data: { user_name: env.DENIED_USER, password: env.DENIED_PASSWORD } });
  check(dl.status() === 200, `the ops-denied user's sign-in gave ${dl.status()}`);
  const deniedStatuses = [(await dp.request.get(`${url}/api/streams`)).status(), (await dp.request.get(`${url}/api/events`)).status(),
    (await dp.request.get(`${url}/api/streams/sales-events/metrics`)).status()];
  check(same(deniedStatuses, [403, 403, 403]), `streams/events/metrics for a denied user: ${deniedStatuses}`);
  await denied.close();

  step = 'login brute force is rate-limited';
  const statuses = [];
  for (let i = 0; i < 7; i++) {
    const r = await vp.request.post(`${url}/api/login`, { data: { user_name: env.VIEWER_USER, password: `wrong-${i}` } });
    statuses.push(r.status());
  }
  check(statuses.slice(0, 5).every((s) => s === 401) && statuses.slice(5).every((s) => s === 429), `login statuses ${statuses}`);

  check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
  console.log('console browser ok');
} catch (e) {
  console.error(`FAILED at "${step}": ${e.message}`);
  if (page) await page.screenshot({ path: path.join(artifacts, 'console-failure.png'), fullPage: true }).catch(() => {});
  await browser.close();
  process.exit(1);
}
await browser.close();
