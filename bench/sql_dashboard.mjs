// Dashboard-style SQL queries: saleslake vs DuckDB over the same Parquet files.
// Usage: node bench/sql_dashboard.mjs LAKE_DIR [BUILD_DIR] [REPEATS]
//   LAKE_DIR must hold sales_data (see bench/sql_dashboard.sh, which builds it); BUILD_DIR holds
//   bench/sql_dashboard_bench.
// Both engines are measured warm: DuckDB in this process, saleslake in one sql_dashboard_bench
// process per query that opens the lake and engine once and runs the query 1 + REPEATS times
// (best of REPEATS kept; the first run is the "first" column). Peak RSS is that process's ru_maxrss.
// Cold, as a CLI user or a new client process pays it: a new `saleslake query` process per run
// (wall time of the process: start-up, catalog load, file listing included), against a new
// DuckDB process (bench/duckdb_cold.mjs: from loading its library to the result); best of
// REPEATS each.
// The last five queries are analyst shapes (filters on the low-cardinality status column before
// grouping, a window frame, a cohort self-join, count(DISTINCT) with a filter), added in
// session 14; the geometric means before that are over the first 21.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const { DuckDBInstance } = await import(path.join(root, 'tools/peers/node_modules/@duckdb/node-api/lib/index.js'));

const lake = path.resolve(process.argv[2] || 'lake');
const build = path.resolve(process.argv[3] || path.join(root, 'build/release'));
const bin = path.join(build, 'bench/sql_dashboard_bench');
const repeats = Number(process.argv[4] || 3);

export const queries = [
  ['daily revenue', `SELECT purchase_date, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY purchase_date ORDER BY purchase_date`],
  ['weekly revenue', `SELECT date_trunc('week', purchase_date) AS week, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY 1 ORDER BY 1`],
  ['monthly revenue', `SELECT purchase_month, round(sum(amount), 2) AS revenue, count(*) AS orders FROM sales_data GROUP BY purchase_month ORDER BY purchase_month`],
  ['revenue by region', `SELECT region, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY region ORDER BY revenue DESC`],
  ['top 10 products', `SELECT product_id, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY product_id ORDER BY revenue DESC LIMIT 10`],
  ['refund rate by region', `SELECT region, CAST(count_if(status = 'REFUNDED') AS DOUBLE) / count(*) AS refund_rate FROM sales_data GROUP BY region ORDER BY region`],
  ['moving 7-day average', `SELECT d, revenue, avg(revenue) OVER (ORDER BY d ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS ma7 FROM (SELECT purchase_date AS d, sum(amount) AS revenue FROM sales_data GROUP BY purchase_date) ORDER BY d`],
  ['month-over-month growth', `SELECT purchase_month, revenue, revenue / lag(revenue) OVER (ORDER BY purchase_month) - 1 AS growth FROM (SELECT purchase_month, sum(amount) AS revenue FROM sales_data GROUP BY purchase_month) ORDER BY purchase_month`],
  ['distinct customers', `SELECT count(DISTINCT customer_id) FROM sales_data`],
  ['distinct customers by month', `SELECT purchase_month, count(DISTINCT customer_id) FROM sales_data GROUP BY purchase_month ORDER BY 1`],
  ['selective date range (pruned)', `SELECT region, round(sum(amount), 2) FROM sales_data WHERE purchase_month = '2025-08' GROUP BY region ORDER BY region`],
  ['one region, one quarter', `SELECT count(*), round(sum(amount), 2) FROM sales_data WHERE region = 'Oceania' AND purchase_date BETWEEN DATE '2025-04-01' AND DATE '2025-06-30'`],
  ['since 2025-08-01', `SELECT count(*), round(avg(amount), 4) FROM sales_data WHERE purchase_date >= DATE '2025-08-01'`],
  ['point lookup', `SELECT purchase_date, amount, status FROM sales_data WHERE customer_id = (SELECT min(customer_id) FROM sales_data WHERE region = 'Africa') ORDER BY purchase_date, amount`],
  ['~customers groups', `SELECT customer_id, round(sum(amount), 2) AS total, count(*) AS n FROM sales_data GROUP BY customer_id ORDER BY total DESC LIMIT 20`],
  ['count(*)', `SELECT count(*) FROM sales_data`],
  ['status mix', `SELECT status, count(*), round(sum(amount), 2) FROM sales_data GROUP BY status ORDER BY status`],
  ['region x month cube', `SELECT region, purchase_month, round(sum(amount), 2) FROM sales_data GROUP BY ROLLUP (region, purchase_month) ORDER BY 1 NULLS LAST, 2 NULLS LAST`],
  ['big orders', `SELECT count(*) FROM sales_data WHERE amount > 400`],
  ['top region per month', `SELECT purchase_month, region, revenue FROM (SELECT purchase_month, region, sum(amount) AS revenue, row_number() OVER (PARTITION BY purchase_month ORDER BY sum(amount) DESC) AS rn FROM sales_data GROUP BY 1, 2) WHERE rn = 1 ORDER BY 1`],
  ['avg order by weekday', `SELECT day_of_week(purchase_date) AS dow, round(avg(amount), 4) FROM sales_data GROUP BY 1 ORDER BY 1`],
  ['completed revenue by region', `SELECT region, round(sum(amount), 2) FROM sales_data WHERE status = 'COMPLETED' GROUP BY region ORDER BY region`],
  ['monthly average without outliers', `SELECT purchase_month, round(avg(amount), 4), count(*) FROM sales_data WHERE status <> 'OUT' GROUP BY 1 ORDER BY 1`],
  ['running revenue per region', `SELECT region, purchase_month, round(sum(sum(amount)) OVER (PARTITION BY region ORDER BY purchase_month ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 2) AS running FROM sales_data GROUP BY region, purchase_month ORDER BY 1, 2`],
  ['customers by first month (cohorts)', `SELECT f.cohort, s.purchase_month, count(DISTINCT s.customer_id) AS customers FROM sales_data s JOIN (SELECT customer_id, min(purchase_month) AS cohort FROM sales_data GROUP BY customer_id) f ON s.customer_id = f.customer_id GROUP BY 1, 2 ORDER BY 1, 2`],
  ['buyers per product, completed', `SELECT product_id, count(DISTINCT customer_id) AS buyers FROM sales_data WHERE status = 'COMPLETED' GROUP BY product_id ORDER BY buyers DESC, product_id LIMIT 20`],
];

function duckSql(sql) {
  return sql.replace(/day_of_week\(/g, 'isodow(');
}

const setup = [
  "SET TimeZone='UTC'",
  `CREATE VIEW sales_data AS SELECT * FROM read_parquet('${lake}/processed_data/sales_data/**/*.parquet', hive_partitioning = true, hive_types = {'region': VARCHAR, 'purchase_month': VARCHAR})`,
];
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
for (const s of setup) await conn.run(s);
const saleslake = path.join(build, 'saleslake');

// Best wall ms of `repeats` new saleslake processes, and of `repeats` new DuckDB processes.
function coldRuns(sql) {
  let ours = Infinity, duck = Infinity, ourRows = -1, duckRows = -1;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(saleslake, ['--lake', lake, 'query', '--format', 'csv', sql], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`saleslake query failed: ${r.stderr}`);
    ourRows = r.stdout.split('\n').filter((l) => l !== '').length - 1;
    ours = Math.min(ours, ms);
    const d = spawnSync(process.execPath, [path.join(here, 'duckdb_cold.mjs'), setup.join(';'), duckSql(sql)], { encoding: 'utf8' });
    if (d.status !== 0) throw new Error(`duckdb_cold failed: ${d.stderr}`);
    const [sec, n] = d.stdout.trim().split(' ');
    duck = Math.min(duck, Number(sec) * 1000);
    duckRows = Number(n);
  }
  return { ours, duck, ourRows, duckRows };
}

const rows = [];
let logSum = 0;
let logCold = 0;
let worst = 0;
let worstCold = 0;
let peakKb = 0;
let failures = 0;
// ONLY='count|cohorts' runs the queries whose name matches that regular expression.
const only = process.env.ONLY ? new RegExp(process.env.ONLY) : null;
for (const [name, sql] of queries) {
  if (only && !only.test(name)) continue;
  // DuckDB (in process, warm: one unmeasured run first)
  let reader = await conn.runAndReadAll(duckSql(sql));
  const duckRows = reader.getRows().length;
  let duckBest = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    reader = await conn.runAndReadAll(duckSql(sql));
    duckBest = Math.min(duckBest, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const res = spawnSync(bin, [lake, String(repeats), sql], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (res.status !== 0) {
    console.error(`${name}: saleslake failed (status ${res.status}, signal ${res.signal}): ${res.stderr}`);
    failures++;
    continue;
  }
  const m = JSON.parse(res.stdout.trim().split('\n').pop());
  if (m.rows !== duckRows) {
    console.error(`${name}: saleslake returned ${m.rows} rows, DuckDB ${duckRows}`);
    failures++;
    continue;
  }
  const cold = coldRuns(sql);
  if (cold.ourRows !== duckRows || cold.duckRows !== duckRows) {
    console.error(`${name}: cold processes returned ${cold.ourRows} (saleslake) and ${cold.duckRows} (DuckDB) rows, not ${duckRows}`);
    failures++;
    continue;
  }
  const ratio = m.best_ms / duckBest;
  const coldRatio = cold.ours / cold.duck;
  logSum += Math.log(ratio);
  logCold += Math.log(coldRatio);
  worst = Math.max(worst, ratio);
  worstCold = Math.max(worstCold, coldRatio);
  peakKb = Math.max(peakKb, m.peak_rss_kb);
  rows.push(`| ${name} | ${m.best_ms.toFixed(1)} | ${duckBest.toFixed(1)} | ${ratio.toFixed(2)} | ${m.first_ms.toFixed(1)} | ` +
            `${cold.ours.toFixed(1)} | ${cold.duck.toFixed(1)} | ${coldRatio.toFixed(2)} | ${(m.peak_rss_kb / 1024).toFixed(0)} |`);
}
console.log('| query | saleslake ms | DuckDB ms | ratio | saleslake first ms | saleslake cold ms | DuckDB cold ms | cold ratio | saleslake peak RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
console.log(`\nwarm: geometric mean ratio ${Math.exp(logSum / rows.length).toFixed(2)}, worst ${worst.toFixed(2)}; ` +
            `cold: geometric mean ratio ${Math.exp(logCold / rows.length).toFixed(2)}, worst ${worstCold.toFixed(2)}; ` +
            `saleslake peak RSS (max over queries): ${(peakKb / 1024).toFixed(0)} MB`);
if (failures > 0) {
  console.error(`${failures} queries failed`);
  process.exit(1);
}
