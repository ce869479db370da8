// Times the default dashboard through the console API of a real `saleslake serve` (see
// bench/dashboard_bench.sh). The page's own work is replayed: every tile's POST /api/query in
// parallel, as app.js sends them (filters {}, limit 5000, the line tile's forecast).
// Usage: node bench/dashboard_bench.mjs LAKE SALESLAKE USER PASSWORD
//   cold: the first request of each of 3 fresh servers (empty result cache, files in the page cache)
//   warm / no-change refresh: median of 10 repeats (every tile from the cache; the server's
//     elapsed time is what /metrics' request histogram would show, here the loopback wall time)
//   changed-file refresh: after `upload` + `crawl` + `start-job` of one 1,000-row file
//   DuckDB: the same tile SQL in one process over the same Parquet files, warm, best of 3
//   chromium: first contentful paint and all tiles rendered, from navigation start
// COLD_ONLY=1: only the cold servers (COLD_RUNS of them, default 3) and DuckDB: nothing is
// loaded into the lake, so an engine change can be timed before/after on the same files.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const require = createRequire(path.join(root, 'tools/peers/package.json'));
const { chromium } = require('playwright-core');
const { DuckDBInstance } = await import(path.join(root, 'tools/peers/node_modules/@duckdb/node-api/lib/index.js'));

const [lake, bin, user, password] = process.argv.slice(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1)} ms`;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function startServer() {
  const port = await freePort();
  const proc = spawn(bin, ['--lake', lake, 'serve', '--port', String(port), '--access-log', ''], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {  // bounded: 60 s
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { proc, url };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error('the server did not come up');
}

async function stopServer(s) {
  s.proc.kill('SIGTERM');
  await new Promise((r) => s.proc.once('exit', r));
}

async function signIn(url) {
  const r = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user_name: user, password }) });
  if (!r.ok) throw new Error(`sign-in: ${r.status} ${await r.text()}`);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const session = await r.json();
  return { cookie, csrf: session.csrf_token };
}

async function dashboard(url, auth) {
  const r = await fetch(`${url}/api/dashboards/sales-performance`, { headers: { Cookie: auth.cookie } });
  return r.json();
}

// All tiles in parallel, as the page does; returns the wall time and how many ran in the engine.
async function allTiles(url, auth, tiles) {
  const t0 = performance.now();
  const out = await Promise.all(tiles.filter((t) => t.sql).map(async (t) => {
    const body = { sql: t.sql, filters: {}, limit: 5000 };
    if (t.type === 'line' && t.forecast) body.forecast = t.forecast;
    const r = await fetch(`${url}/api/query`, { method: 'POST', headers: { Cookie: auth.cookie, 'X-CSRF-Token': auth.csrf, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const j = await r.json();
    if (!r.ok) throw new Error(`${t.id}: ${JSON.stringify(j)}`);
    return { id: t.id, cached: j.cached, elapsed: j.elapsed_ms };
  }));
  return { wall: performance.now() - t0, ran: out.filter((x) => !x.cached).length, tiles: out };
}

const rows = JSON.parse(execFileSync(bin, ['--lake', lake, 'query', '--format', 'json', 'SELECT count(*) AS n FROM sales_data'], { encoding: 'utf8' }))[0].n;
console.log(`lake ${lake}: sales_data has ${rows.toLocaleString('en')} rows`);

// Cold: 3 fresh servers.
const coldOnly = process.env.COLD_ONLY === '1';
const cold = [];
let tiles;
let coldEngine = {};
for (let i = 0; i < Number(process.env.COLD_RUNS || 3); i++) {
  const s = await startServer();
  const auth = await signIn(s.url);
  tiles = (await dashboard(s.url, auth)).tiles;
  const c = await allTiles(s.url, auth, tiles);
  cold.push(c.wall);
  for (const t of c.tiles) coldEngine[t.id] = Math.min(coldEngine[t.id] ?? Infinity, t.elapsed);
  await stopServer(s);
}

const warm = [];
const paint = [];
const ready = [];
let changed;
let after;
if (!coldOnly) {
  const s = await startServer();
  const auth = await signIn(s.url);
  await allTiles(s.url, auth, tiles);
  for (let i = 0; i < 10; i++) {
    const w = await allTiles(s.url, auth, tiles);
    if (w.ran !== 0) throw new Error(`a no-change refresh ran ${w.ran} queries`);
    warm.push(w.wall);
  }

  // One new file loaded by the job: every tile reads sales_data, so every tile runs again.
  const extra = path.join(path.dirname(lake), `dashboard-bench-extra-${Date.now()}.csv`);
  execFileSync(bin, ['generate', '--rows', '1000', '--seed', String(Date.now() % 100000), '--out', extra]);
  for (const args of [['upload', extra], ['crawl'], ['start-job', '--job-name', 'my-etl-job']]) {
    for (let attempt = 0; ; attempt++) {
      try {
        execFileSync(bin, ['--lake', lake, ...args], { stdio: 'pipe' });
        break;
      } catch (e) {  // the server's own rules may be running the job for this upload
        if (attempt >= 240 || !String(e.stderr).includes('already running')) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
  changed = await allTiles(s.url, auth, tiles);
  after = await allTiles(s.url, auth, tiles);

  // First paint and all tiles rendered in chromium (the session cookie set first).
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  for (let i = 0; i < 3; i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const login = await page.request.post(`${s.url}/api/login`, { data: { user_name: user, password } });
    if (!login.ok()) throw new Error(`browser sign-in ${login.status()}`);
    await page.goto(`${s.url}/console/#/d/sales-performance`);
    await page.waitForFunction(() => window.__saleslake && window.__saleslake.ready === true, null, { timeout: 120000 });
    const t = await page.evaluate(() => ({
      fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
      ready: performance.now(),
    }));
    paint.push(t.fcp);
    ready.push(t.ready);
    await context.close();
  }
  await browser.close();
  await stopServer(s);
}

// DuckDB over the same Parquet files (warm, best of 3 per tile, sequential and summed).
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run("SET TimeZone='UTC'");
await conn.run(`CREATE VIEW sales_data AS SELECT * FROM read_parquet('${lake}/processed_data/sales_data/**/*.parquet', hive_partitioning = true, hive_types = {'region': VARCHAR, 'purchase_month': VARCHAR})`);
let duckTotal = 0;
const duckPer = {};
for (const t of tiles.filter((x) => x.sql)) {
  await conn.run(t.sql);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await conn.runAndReadAll(t.sql);
    r.getRows();
    best = Math.min(best, performance.now() - t0);
  }
  duckPer[t.id] = best;
  duckTotal += best;
}

console.log(`tiles with SQL: ${tiles.filter((t) => t.sql).length}`);
console.log(`cold, all tiles (3 fresh servers):       ${cold.map(ms).join(', ')}  (median ${ms(median(cold))})`);
if (!coldOnly) {
  console.log(`warm / no-change refresh (10 repeats):   median ${ms(median(warm))}, best ${ms(Math.min(...warm))}`);
  console.log(`refresh after one new file:              ${ms(changed.wall)} (${changed.ran} tiles ran), then ${ms(after.wall)} (${after.ran} ran)`);
}
console.log(`DuckDB, same tile SQL, sum of tiles:     ${ms(duckTotal)}`);
if (!coldOnly) {
  console.log(`chromium first contentful paint:         ${paint.map(ms).join(', ')}`);
  console.log(`chromium all tiles rendered:             ${ready.map(ms).join(', ')}`);
}
console.log('per tile (saleslake cold engine time / DuckDB warm):');
for (const t of tiles.filter((x) => x.sql)) console.log(`  ${t.id.padEnd(18)} ${ms(coldEngine[t.id]).padStart(10)} ${ms(duckPer[t.id]).padStart(10)}`);
