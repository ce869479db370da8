// DuckDB side of bench/csv_vs_duckdb.sh: times `count(*), sum(amount)` over read_csv(FILE) in
// one in-memory DuckDB instance (instance start-up excluded, sniffing included), best of N runs.
// Usage: node bench/csv_duckdb.mjs FILE [RUNS]   -> prints "duckdb_seconds <best> count <n> sum <s>"
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tools/peers/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const file = process.argv[2];
const runs = Number(process.argv[3] || 3);
const threads = process.env.DUCKDB_THREADS;
const instance = await DuckDBInstance.create(':memory:', threads ? { threads } : {});
const conn = await instance.connect();
const sql = `SELECT count(*) AS n, sum(amount) AS s FROM read_csv('${file.replace(/'/g, "''")}')`;
let best = Infinity;
let result = null;
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  const reader = await conn.runAndReadAll(sql);
  const t = Number(process.hrtime.bigint() - t0) / 1e9;
  best = Math.min(best, t);
  result = reader.getRows()[0];
}
console.log(`duckdb_seconds ${best.toFixed(3)} count ${result[0]} sum ${Number(result[1]).toFixed(2)}`);
