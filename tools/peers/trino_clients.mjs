// Runs SQL through the npm Trino clients (trino-client and presto-client) against a saleslake
// server, unchanged, with HTTP Basic auth (access key id + secret).
//
//   node trino_clients.mjs URL KEY_ID SECRET queries.sql
//     queries.sql: one statement per line. For each statement and client, prints
//       == <client> <n>
//       <column name>:<trino type>\t...
//       <cell>\t<cell>...        (NULL as \N, numbers as JavaScript prints them)
//     or "ERROR <errorName> <line>:<column> <message>" when the statement failed.
//   node trino_clients.mjs URL KEY_ID SECRET --cancel "SQL"
//     starts the statement with trino-client, cancels it while it runs (DELETE /v1/query/ID), and prints
//     "CANCELLED <errorName>" with the error the next page carried.
//   node trino_clients.mjs URL KEY_ID SECRET --session queries.sql [NAME=VALUE ...]
//     runs the statements through one trino-client, which carries the session properties and
//     prepared statements the server's answers set (X-Trino-Set-Session, X-Trino-Added-Prepare,
//     ...) to the next statement; prints the blocks as above for trino-client only, with
//     "UPDATE <update type>" as the first line of a statement without rows. NAME=VALUE pairs
//     are the client's initial session properties (sent as X-Trino-Session).
//   node trino_clients.mjs URL KEY_ID SECRET --count "SQL"
//     pages through the result with trino-client without keeping it, and prints
//     "ROWS <n> SUM <sum of the first column> PAGES <pages with data>" (or "ERROR <errorName> ...").
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Trino, BasicAuth } = require('trino-client');
const presto = require('presto-client');

const [url, keyId, secret, file, cancelSql] = process.argv.slice(2);
const server = new URL(url);

function text(v) {
  if (v === null || v === undefined) return '\\N';
  return String(v);
}

function print(client, n, columns, rows, error) {
  console.log(`== ${client} ${n}`);
  if (error) {
    const loc = error.errorLocation ? `${error.errorLocation.lineNumber}:${error.errorLocation.columnNumber}` : '-';
    console.log(`ERROR ${error.errorName} ${loc} ${error.message}`);
    return;
  }
  console.log((columns || []).map((c) => `${c.name}:${c.type}`).join('\t'));
  for (const row of rows) console.log(row.map(text).join('\t'));
}

const initialSession = file === '--session'
  ? Object.fromEntries(process.argv.slice(7).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  : {};
const trino = Trino.create({ server: url, catalog: 'lake', schema: 'sales', auth: new BasicAuth(keyId, secret),
                             session: initialSession });

async function viaTrino(sql) {
  const iter = await trino.query(sql);
  let columns = null;
  let updateType = null;
  const rows = [];
  for await (const result of iter) {
    if (result.error) return { error: result.error };
    if (result.columns) columns = result.columns;
    if (result.updateType) updateType = result.updateType;
    if (result.data) rows.push(...result.data);
  }
  return { columns, rows, updateType };
}

function viaPresto(sql) {
  const client = new presto.Client({
    engine: 'trino', host: server.hostname, port: Number(server.port), user: keyId,
    catalog: 'lake', schema: 'sales', basic_auth: { user: keyId, password: secret }, checkInterval: 50,
  });
  return new Promise((resolve) => {
    let columns = null;
    const rows = [];
    client.execute({
      query: sql,
      columns: (error, cols) => { columns = cols; },
      data: (error, data, cols) => { if (cols) columns = cols; rows.push(...data); },
      success: () => resolve({ columns, rows }),
      error: (error) => resolve({ error }),
    });
  });
}

async function main() {
  if (file === '--count') {
    const iter = await trino.query(cancelSql);
    let rows = 0;
    let sum = 0;
    let pages = 0;
    for await (const result of iter) {
      if (result.error) {
        console.log(`ERROR ${result.error.errorName} ${result.error.message}`);
        return;
      }
      if (!result.data) continue;
      pages++;
      rows += result.data.length;
      for (const row of result.data) sum += Number(row[0]);
    }
    console.log(`ROWS ${rows} SUM ${sum} PAGES ${pages}`);
    return;
  }
  if (file === '--cancel') {
    const started = await trino.query(cancelSql);
    const id = started.iter.queryResult.id;  // the POST's answer: the query is accepted
    const consumed = (async () => {
      for await (const result of started) {
        if (result.error) return result.error;
      }
      return null;
    })();
    await new Promise((r) => setTimeout(r, 300));
    await trino.cancel(id);
    const error = await consumed;
    console.log(`CANCELLED ${error ? error.errorName : 'none'}`);
    return;
  }
  if (file === '--session') {
    const lines = readFileSync(cancelSql, 'utf8').split('\n').filter((l) => l.trim() !== '');
    for (const [i, sql] of lines.entries()) {
      const t = await viaTrino(sql);
      if (!t.error && !t.columns && t.updateType) {
        console.log(`== trino-client ${i + 1}`);
        console.log(`UPDATE ${t.updateType}`);
        continue;
      }
      print('trino-client', i + 1, t.columns, t.rows || [], t.error);
    }
    return;
  }
  const statements = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  for (const [i, sql] of statements.entries()) {
    const t = await viaTrino(sql);
    print('trino-client', i + 1, t.columns, t.rows || [], t.error);
    const p = await viaPresto(sql);
    print('presto-client', i + 1, p.columns, p.rows || [], p.error);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
