// Best of 3 wall-clock seconds of one query in an in-memory DuckDB (node-api), printed alone.
// Usage: node bench/matview_duckdb.mjs "SELECT ..."
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { DuckDBInstance } = await import(path.join(root, 'tools/peers/node_modules/@duckdb/node-api/lib/index.js'));
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
let best = Infinity;
for (let i = 0; i < 3; ++i) {
  const t0 = process.hrtime.bigint();
  await conn.runAndReadAll(process.argv[2]);
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
}
process.stdout.write(best.toFixed(3) + '\n');
