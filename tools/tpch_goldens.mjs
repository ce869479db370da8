// Regenerates the TPC-H golden answers (tests/sql/tpch/qNN.csv) with DuckDB, the oracle: runs the
// 22 queries of the shared SF0.1 data set (../shared/testdata/tpch-sf0.1/queries, Trino syntax
// that DuckDB also accepts) over its Parquet files, one thread, TimeZone=UTC.
// CSV: header line, then one line per row; empty field = NULL; RFC 4180 quoting.
// Usage: node tools/tpch_goldens.mjs [DATA_DIR]
//   (default: $SALESLAKE_SHARED_TESTDATA/tpch-sf0.1, else ../shared/testdata/tpch-sf0.1)
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const { DuckDBInstance } = await import(path.join(here, 'peers/node_modules/@duckdb/node-api/lib/index.js'));

const shared = process.env.SALESLAKE_SHARED_TESTDATA ?? path.join(root, '../shared/testdata');
const data = path.resolve(process.argv[2] ?? path.join(shared, 'tpch-sf0.1'));
if (!existsSync(path.join(data, 'lineitem.parquet'))) {
  console.error(`no TPC-H data in ${data}`);
  process.exit(1);
}
const out = path.join(root, 'tests/sql/tpch');
mkdirSync(out, { recursive: true });
const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const conn = await instance.connect();
await conn.run("SET TimeZone='UTC'");
for (const t of ['customer', 'lineitem', 'nation', 'orders', 'part', 'partsupp', 'region', 'supplier'])
  await conn.run(`CREATE VIEW ${t} AS SELECT * FROM read_parquet('${path.join(data, t + '.parquet')}')`);

function field(v) {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}
for (let q = 1; q <= 22; ++q) {
  const name = `q${String(q).padStart(2, '0')}`;
  const sql = readFileSync(path.join(data, 'queries', name + '.sql'), 'utf8').replace(/;\s*$/, '');
  const reader = await conn.runAndReadAll(sql);
  const lines = [reader.columnNames().map(field).join(',')];
  for (const row of reader.getRows()) lines.push(row.map(field).join(','));
  writeFileSync(path.join(out, name + '.csv'), lines.join('\n') + '\n');
  console.log(`${name}: ${lines.length - 1} rows`);
}
