// The server's CPU time per Athena request, by operation (utime + stime of the `saleslake serve`
// process from /proc/<pid>/stat, so what other processes on the machine use does not count):
//
//   node bench/athena_request_cpu.mjs ENDPOINT KEY_ID SECRET SERVER_PID [N]   (ONLY=<label prefix>)
//
// GetQueryExecution of a finished query (one signature sent N times, and signed each time),
// GetQueryResults of q1's 237 rows and of one row, StartQueryExecution of SELECT 1 waited to
// the end (its run and result file included) and not waited. Each is sent 20 times first.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tools/peers/package.json'));
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@smithy/core/checksum');
const [endpoint, keyId, secret, pid, nArg] = process.argv.slice(2);
const N = Number(nArg || 300);
const url = new URL(endpoint);
const CLK_TCK = Number(process.env.CLK_TCK || 100);
const signer = new SignatureV4({ service: 'athena', region: 'us-east-1', sha256: Sha256, credentials: { accessKeyId: keyId, secretAccessKey: secret } });
function cpu() { const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / CLK_TCK; }
async function sign(operation, body) {
  const payload = JSON.stringify(body);
  const signed = await signer.sign({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/',
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonAthena.${operation}` }, body: payload });
  return { headers: signed.headers, payload };
}
async function send({ headers, payload }) {
  const res = await fetch(`${endpoint}/`, { method: 'POST', headers, body: payload });
  const t = await res.text(); if (res.status !== 200) throw new Error(t); return JSON.parse(t);
}
const suite = fs.readFileSync(path.join(here, '../tests/sql/dashboard_suite.sql'), 'utf8').split('\n').filter((l) => l.trim() !== '');
async function waitDone(id) { const p = await sign('GetQueryExecution', { QueryExecutionId: id }); for (;;) { const e = (await send(p)).QueryExecution; if (e.Status.State !== 'RUNNING' && e.Status.State !== 'QUEUED') return e; } }
const ONLY = process.env.ONLY || '';
async function measure(label, fn) {
  if (ONLY && !label.startsWith(ONLY)) return;
  for (let i = 0; i < 20; i++) await fn(i);
  const c0 = cpu(); const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  const c = cpu() - c0; const t = performance.now() - t0;
  console.log(`${label}: server CPU ${(1e3 * c / N).toFixed(3)} ms/request, client wall ${(t / N).toFixed(2)} ms/request`);
}
const q1 = (await send(await sign('StartQueryExecution', { QueryString: suite[0], QueryExecutionContext: { Database: 'sales' }, WorkGroup: 'primary' }))).QueryExecutionId;
await waitDone(q1);
const poll = await sign('GetQueryExecution', { QueryExecutionId: q1 });
await measure('GetQueryExecution (finished, same signature)', () => send(poll));
await measure('GetQueryExecution (finished, signed each time)', async () => send(await sign('GetQueryExecution', { QueryExecutionId: q1 })));
const res = await sign('GetQueryResults', { QueryExecutionId: q1, MaxResults: 1000 });
await measure('GetQueryResults q1 (237 rows)', () => send(res));
const one = await sign('GetQueryResults', { QueryExecutionId: q1, MaxResults: 2 });
await measure('GetQueryResults q1 (1 row)', () => send(one));
// StartQueryExecution + the query itself: SELECT 1 (wait for each, so the run is counted too)
const ids = [];
await measure('StartQueryExecution SELECT 1 (+run, +result file)', async () => { const r = await send(await sign('StartQueryExecution', { QueryString: 'SELECT 1', QueryExecutionContext: { Database: 'sales' }, WorkGroup: 'primary' })); ids.push(r.QueryExecutionId); await waitDone(r.QueryExecutionId); });
await measure('StartQueryExecution SELECT 1 only (not waited)', async () => { const r = await send(await sign('StartQueryExecution', { QueryString: 'SELECT 1', QueryExecutionContext: { Database: 'sales' }, WorkGroup: 'primary' })); ids.push(r.QueryExecutionId); });
