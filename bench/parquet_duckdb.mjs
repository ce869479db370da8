// DuckDB side of bench/parquet_vs_duckdb.sh: builds the N-row sales table, writes the shared
// source file (uncompressed Parquet) for saleslake, then times DuckDB's own zstd write and full
// read (best of 3). Prints one JSON line. Usage: node parquet_duckdb.mjs ROWS DIR
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { statSync, existsSync } from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tools/peers/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const rows = Number(process.argv[2] ?? 10000000);
const dir = process.argv[3] ?? '/tmp';
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run("SET TimeZone='UTC'");
await conn.run(`CREATE TABLE sales AS SELECT
  DATE '2024-01-01' + (hash(i) % 730)::INTEGER AS purchase_date,
  'C' || lpad((hash(i * 7) % 200000)::VARCHAR, 6, '0') AS customer_id,
  'SKU-' || lpad((hash(i * 13) % 5000)::VARCHAR, 5, '0') AS product_id,
  CASE WHEN hash(i * 17) % 20 = 0 THEN NULL ELSE ((hash(i * 19) % 50000) / 100.0)::DECIMAL(10,2) END AS amount,
  (['North America','Europe','Asia Pacific','Latin America','Middle East'])[(hash(i * 23) % 5)::BIGINT + 1] AS region,
  (['completed','pending','cancelled','refunded'])[(hash(i * 29) % 4)::BIGINT + 1] AS status,
  i::BIGINT AS line_id
FROM range(${rows}) t(i)`);
const src = `${dir}/parquet_bench_src_${rows}.parquet`;
if (!existsSync(src)) await conn.run(`COPY sales TO '${src}' (FORMAT parquet, COMPRESSION uncompressed)`);
const out = `${dir}/parquet_bench_duckdb_${rows}.parquet`;
async function best(fn) {
  let b = Infinity;
  for (let k = 0; k < 3; ++k) {
    const t = performance.now();
    await fn();
    b = Math.min(b, performance.now() - t);
  }
  return b / 1000;
}
const write = await best(() => conn.run(`COPY sales TO '${out}' (FORMAT parquet, COMPRESSION zstd)`));
const read = await best(() => conn.run(`CREATE OR REPLACE TEMP TABLE r AS SELECT * FROM read_parquet('${out}')`));
console.log(JSON.stringify({ write_s: write, read_s: read, bytes: statSync(out).size, src, out }));
