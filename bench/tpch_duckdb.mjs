// DuckDB side of bench/tpch_vs_duckdb.sh.
//   node tpch_duckdb.mjs run DATA_DIR QUERY.sql RUNS OUT.csv
//     views over DATA_DIR/<table>.parquet (or DATA_DIR/<table>/*.parquet), then the query RUNS times in one process; prints the
//     best run's seconds, then the cold seconds of the first run (from loading DuckDB's library
//     to its first result: what a new process pays, without node's own start-up), and writes the
//     result as CSV (header; empty field = NULL).
//   node tpch_duckdb.mjs compare OURS.csv DUCKDB.csv
//     prints "ok" or the first difference. Numbers: a value of ours with d decimals must be
//     DuckDB's rounded to d decimals (Trino types: avg of DECIMAL(15,2) is DECIMAL(15,2) where
//     DuckDB gives a DOUBLE), else equal to 1e-9 relative; headers are not compared.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));
const [mode, ...args] = process.argv.slice(2);

function parseCsv(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const out = [];
    let cur = '', quoted = false;
    for (let i = 0; i < line.length; ++i) {
      const c = line[i];
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') { cur += '"'; ++i; }
        else if (c === '"') quoted = false;
        else cur += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') { out.push(cur); cur = ''; }
      else cur += c;
    }
    out.push(cur);
    rows.push(out);
  }
  return rows;
}

function cellMatches(ours, duck) {
  if (ours === duck) return true;
  const a = Number(ours), b = Number(duck);
  if (ours === '' || duck === '' || Number.isNaN(a) || Number.isNaN(b)) return false;
  const rel = 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  const dot = ours.indexOf('.');
  const d = /e/i.test(ours) ? -1 : dot < 0 ? 0 : ours.length - dot - 1;
  const tol = d >= 0 && d < 12 ? 0.5 * 10 ** -d + rel : rel;
  return Math.abs(a - b) <= tol;
}

if (mode === 'compare') {
  const ours = parseCsv(readFileSync(args[0], 'utf8')).slice(1);
  const duck = parseCsv(readFileSync(args[1], 'utf8')).slice(1);
  if (ours.length !== duck.length) {
    console.log(`rows ${ours.length} vs ${duck.length}`);
    process.exit(0);
  }
  for (let i = 0; i < ours.length; ++i)
    for (let k = 0; k < Math.max(ours[i].length, duck[i].length); ++k)
      if (!cellMatches(ours[i][k] ?? '', duck[i][k] ?? '')) {
        console.log(`row ${i} col ${k}: ${ours[i][k]} vs ${duck[i][k]}`);
        process.exit(0);
      }
  console.log('ok');
  process.exit(0);
}

const [data, queryFile, runsArg, out] = args;
const started = performance.now();
const require = createRequire(path.join(here, '../tools/peers/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run("SET TimeZone='UTC'");
// TPCH_DUCKDB_MEMORY_LIMIT='1GB': DuckDB under the memory limit saleslake runs with (bench/join_spill.sh).
if (process.env.TPCH_DUCKDB_MEMORY_LIMIT) await conn.run(`SET memory_limit='${process.env.TPCH_DUCKDB_MEMORY_LIMIT}'`);
for (const t of ['customer', 'lineitem', 'nation', 'orders', 'part', 'partsupp', 'region', 'supplier']) {
  // DATA_DIR/<t>.parquet, or a directory DATA_DIR/<t>/ of files (generate-tpch --files N).
  const dir = path.join(data, t);
  const files = existsSync(dir) && statSync(dir).isDirectory() ? path.join(dir, '*.parquet') : dir + '.parquet';
  await conn.run(`CREATE VIEW ${t} AS SELECT * FROM read_parquet('${files}')`);
}
const sql = readFileSync(queryFile, 'utf8').replace(/;\s*$/, '');
let best = Infinity, cold = 0, reader = null;
for (let r = 0; r < Number(runsArg ?? 3); ++r) {
  const t = performance.now();
  reader = await conn.runAndReadAll(sql);
  const end = performance.now();
  if (r === 0) cold = end - started;
  best = Math.min(best, end - t);
}
const field = (v) => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
};
const lines = [reader.columnNames().map(field).join(',')];
for (const row of reader.getRows()) lines.push(row.map(field).join(','));
writeFileSync(out, lines.join('\n') + '\n');
console.log(`${(best / 1000).toFixed(4)} ${(cold / 1000).toFixed(4)}`);
