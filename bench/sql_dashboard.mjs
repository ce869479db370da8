// Dashboard-style SQL queries: saleslake vs DuckDB over the same Parquet files.
// Usage: node bench/sql_dashboard.mjs LAKE_DIR [SALESLAKE_BINARY] [REPEATS]
//   LAKE_DIR must hold sales_data (see bench/sql_dashboard.sh, which builds it).
// Prints one markdown row per query (best of REPEATS wall-clock runs each), the geometric mean of
// the ratios, and saleslake's peak RSS per query (from /usr/bin/time when available).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const { DuckDBInstance } = await import(path.join(root, 'tools/peers/node_modules/@duckdb/node-api/lib/index.js'));

const lake = path.resolve(process.argv[2] || 'lake');
const bin = process.argv[3] || path.join(root, 'build/release/saleslake');
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
];

function duckSql(sql) {
  return sql.replace(/day_of_week\(/g, 'isodow(');
}

function time(fn) {
  let best = Infinity;
  let out;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    out = fn();
    const t = Number(process.hrtime.bigint() - t0) / 1e6;
    best = Math.min(best, t);
  }
  return [best, out];
}

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run("SET TimeZone='UTC'");
await conn.run(`CREATE VIEW sales_data AS SELECT * FROM read_parquet('${lake}/processed_data/sales_data/**/*.parquet', hive_partitioning = true, hive_types = {'region': VARCHAR, 'purchase_month': VARCHAR})`);

const haveTime = existsSync('/usr/bin/time');
const rows = [];
let logSum = 0;
let worst = 0;
for (const [name, sql] of queries) {
  // DuckDB (in process, warm)
  let duckBest = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await conn.runAndReadAll(duckSql(sql));
    duckBest = Math.min(duckBest, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const [ourBest, res] = time(() => spawnSync(haveTime ? '/usr/bin/time' : bin,
      haveTime ? ['-f', '%M', bin, '--lake', lake, 'query', sql, '--format', 'csv'] : ['--lake', lake, 'query', sql, '--format', 'csv'],
      { encoding: 'utf8', maxBuffer: 1 << 28 }));
  if (res.status !== 0) {
    console.error(`${name}: saleslake failed: ${res.stderr}`);
    process.exit(1);
  }
  const rssKb = haveTime ? Number(res.stderr.trim().split('\n').pop()) : NaN;
  const ratio = ourBest / duckBest;
  logSum += Math.log(ratio);
  worst = Math.max(worst, ratio);
  rows.push(`| ${name} | ${ourBest.toFixed(1)} | ${duckBest.toFixed(1)} | ${ratio.toFixed(2)} | ${(rssKb / 1024).toFixed(0)} |`);
}
console.log('| query | saleslake ms | DuckDB ms | ratio | saleslake peak RSS MB |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
console.log(`\ngeometric mean ratio: ${Math.exp(logSum / queries.length).toFixed(2)}; worst: ${worst.toFixed(2)}`);
