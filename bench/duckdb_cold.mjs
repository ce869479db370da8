// DuckDB as a new process pays it: node bench/duckdb_cold.mjs "SETUP SQL" "QUERY"
// Loads DuckDB's library, opens an in-memory database, runs SETUP (views over the files) and
// then QUERY once; prints the seconds from before loading the library to the result (node's own
// start-up is not counted) and the number of rows. The cold partner of a new `saleslake query`
// process in bench/sql_dashboard.mjs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const started = performance.now();
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { DuckDBInstance } = await import(path.join(root, 'tools/peers/node_modules/@duckdb/node-api/lib/index.js'));
const [setup, sql] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
for (const s of setup.split(';').map((x) => x.trim()).filter(Boolean)) await conn.run(s);
const reader = await conn.runAndReadAll(sql);
console.log(`${((performance.now() - started) / 1000).toFixed(4)} ${reader.getRows().length}`);
