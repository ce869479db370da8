// Regenerates the SQL golden corpus with DuckDB (the oracle):
//   1. writes the test tables to tests/sql/data/*.parquet (deterministic formulas, no RNG);
//   2. for every `query` case in tests/sql/cases/**/*.test runs the DuckDB side of the case
//      (the `----duckdb` block when present, else the query itself) over those Parquet files
//      and rewrites the expected rows below `----`.
// Usage: node tools/sql_goldens.mjs [--data-only] [FILTER]   (FILTER: substring of a case path)
//
// Case file format (one or more cases per file, separated by blank lines):
//   query [ordered]          rows compared in order only with `ordered`
//   <Trino SQL, one or more lines>
//   ----duckdb               optional: what DuckDB runs when its semantics differ from Trino's
//   <DuckDB SQL>
//   ----
//   <expected CSV: header line, then one line per row; empty field = NULL; a row of one NULL
//    column is written as NULL>
//
//   error
//   <SQL>
//   ----
//   <substring of the expected error message>
import { readFileSync, writeFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const { DuckDBInstance } = await import(path.join(here, 'peers/node_modules/@duckdb/node-api/lib/index.js'));

const dataDir = path.join(root, 'tests/sql/data');
const casesDir = path.join(root, 'tests/sql/cases');
const args = process.argv.slice(2);
const dataOnly = args.includes('--data-only');
const filter = args.find((a) => !a.startsWith('--')) || '';

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const conn = await instance.connect();
await conn.run("SET TimeZone='UTC'");

const tables = {
  sales: `
    SELECT i AS order_id,
      CASE WHEN i % 97 = 0 THEN NULL ELSE 'C' || lpad(CAST((i * 7919) % 300 AS VARCHAR), 4, '0') END AS customer_id,
      'P' || lpad(CAST((i * 31) % 50 AS VARCHAR), 3, '0') AS product_id,
      ['electronics','home','fashion','beauty','sports','toys'][(i * 13) % 6 + 1] AS category,
      CASE WHEN i % 101 = 0 THEN NULL
           ELSE ['North America','Europe','Asia Pacific','Latin America','Africa'][((i * 17) // 3 + (i % 4 = 0)::INT * 2) % 5 + 1] END AS region,
      CASE WHEN i % 53 = 0 THEN NULL ELSE CAST((i * 37) % 10 + 1 AS INTEGER) END AS quantity,
      CAST(((i * 7793) % 20000) / 100.0 + 1 AS DECIMAL(10,2)) AS unit_price,
      CAST((((i * 7793) % 20000) / 100.0 + 1) * ((i * 37) % 10 + 1) AS DOUBLE) AS amount,
      CAST(DATE '2024-01-01' + CAST((i * 113) % 731 AS INTEGER) AS DATE) AS purchase_date,
      TIMESTAMP '2024-01-01 00:00:00' + to_seconds(CAST((i * 7919 * 13) % (731 * 86400) AS BIGINT)) AS purchase_ts,
      CASE WHEN i % 11 = 0 THEN 'REFUNDED' WHEN i % 7 = 0 THEN 'PENDING' ELSE 'COMPLETED' END AS status,
      (i % 3 = 0) AS is_online
    FROM range(1, 3001) t(i)`,
  customers: `
    SELECT 'C' || lpad(CAST(i AS VARCHAR), 4, '0') AS customer_id, 'name' || i AS name,
      ['consumer','corporate','home_office'][i % 3 + 1] AS segment,
      CAST(DATE '2023-01-01' + CAST(i * 3 AS INTEGER) AS DATE) AS signup_date
    FROM range(0, 320) t(i)
    UNION ALL SELECT 'C0005', 'dup5', 'corporate', DATE '2023-06-01'`,
  products: `
    SELECT 'P' || lpad(CAST(i AS VARCHAR), 3, '0') AS product_id,
      ['electronics','home','fashion','beauty','sports','toys'][i % 6 + 1] AS category,
      CAST(10 + i * 1.25 AS DECIMAL(10,2)) AS list_price
    FROM range(0, 55) t(i)`,
  empty_sales: `SELECT * FROM read_parquet('${path.join(dataDir, 'sales.parquet')}') WHERE false`,
};

mkdirSync(dataDir, { recursive: true });
for (const [name, sql] of Object.entries(tables)) {
  const file = path.join(dataDir, `${name}.parquet`);
  await conn.run(`COPY (${sql} ORDER BY 1) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
}
for (const name of Object.keys(tables)) {
  await conn.run(`CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet('${path.join(dataDir, name + '.parquet')}')`);
}
// Trino function names DuckDB lacks (same semantics). Functions whose DuckDB namesake differs
// (dow, date_diff, concat, greatest, regexp_extract, ...) get a `----duckdb` block instead.
for (const m of [
  'day_of_year(d) AS dayofyear(d)',
  'day_of_week(d) AS isodow(d)',
  'year_of_week(d) AS isoyear(d)',
  'from_iso8601_date(s) AS CAST(s AS DATE)',
  'regexp_like(s, p) AS regexp_matches(s, p)',
]) {
  await conn.run(`CREATE OR REPLACE MACRO ${m}`);
}
if (dataOnly) process.exit(0);

function field(v) {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/[",\n\r]/.test(s)) s = '"' + s.replace(/"/g, '""') + '"';
  return s;
}

function walk(dir) {
  let out = [];
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (f.endsWith('.test')) out.push(p);
  }
  return out;
}

let total = 0;
for (const file of walk(casesDir)) {
  if (filter && !file.includes(filter)) continue;
  const lines = readFileSync(file, 'utf8').split('\n');
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.startsWith('query')) {
      out.push(line);
      i++;
      continue;
    }
    // query header, SQL, optional ----duckdb block, ---- then old expected rows until blank line
    out.push(line);
    i++;
    const sql = [];
    while (i < lines.length && !lines[i].startsWith('----')) sql.push(lines[i++]);
    let duck = null;
    if (i < lines.length && lines[i] === '----duckdb') {
      i++;
      duck = [];
      while (i < lines.length && lines[i] !== '----') duck.push(lines[i++]);
    }
    i++;  // ----
    while (i < lines.length && lines[i].trim() !== '') i++;  // old expectation
    const text = (duck || sql).join('\n');
    let rows;
    try {
      const reader = await conn.runAndReadAll(text);
      rows = [reader.columnNames().map(field).join(',')];
      // A row that would print as an empty line (one NULL column) is written as NULL, since a
      // blank line ends the expectation.
      for (const r of reader.getRows()) rows.push(r.map(field).join(',') || 'NULL');
    } catch (e) {
      console.error(`${file}: DuckDB failed on:\n${text}\n${e.message}`);
      process.exit(1);
    }
    out.push(...sql);
    if (duck) out.push('----duckdb', ...duck);
    out.push('----', ...rows);
    total++;
  }
  writeFileSync(file, out.join('\n'));
}
console.log(`regenerated ${total} golden results`);
