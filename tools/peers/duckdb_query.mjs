// Runs the SQL script on stdin in an in-memory DuckDB (TimeZone=UTC) and prints the result of
// the last statement as CSV with a header: empty field for NULL, RFC 4180 quoting.
// Used by tests (interop, SQL goldens) and benchmarks. Usage: node duckdb_query.mjs < script.sql
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const sql = readFileSync(0, 'utf8');
const threads = process.env.DUCKDB_THREADS;
const instance = await DuckDBInstance.create(':memory:', threads ? { threads } : {});
const conn = await instance.connect();
await conn.run("SET TimeZone='UTC'");
const statements = sql.split(/;\s*\n/).map((s) => s.trim()).filter((s) => s.length > 0);
let reader = null;
for (const st of statements) reader = await conn.runAndReadAll(st);
function field(v) {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'object' ? String(v) : String(v);
  if (/[",\n\r]/.test(s)) s = '"' + s.replace(/"/g, '""') + '"';
  return s;
}
if (reader) {
  const out = [reader.columnNames().map(field).join(',')];
  for (const row of reader.getRows()) out.push(row.map(field).join(','));
  process.stdout.write(out.join('\n') + '\n');
}
