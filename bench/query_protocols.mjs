// The dashboard query suite (tests/sql/dashboard_suite.sql) through the two query protocols of a
// running `saleslake serve` — Trino's REST protocol (trino-client, as BI tools and drivers speak
// it) and Athena's API (JSON 1.1, signed by the AWS SDK's own SigV4 signer and sent by its own
// node HTTP handler, as @aws-sdk/client-athena sends it in node) — against the same query run
// in-process by bench/sql_dashboard_bench.
//
//   node bench/query_protocols.mjs ENDPOINT KEY_ID SECRET LAKE BENCH_BIN [REPEATS]
//
// Suite phase: per query, REPEATS rounds after one unmeasured run of each side; a round runs the
// query once in-process, once through Trino and once through Athena, one right after the other
// (the order rotated from round to round), so that a change of the machine's load falls on all
// three alike. Each side's figure is its median over the rounds; overhead = protocol median -
// in-process median; "ok" when it is within the target, 5 ms + 10% of the in-process time.
// In-process is a warm engine in one long-lived process (sql_dashboard_bench --lines: the lake,
// catalog and footers loaded once, each query timed around Execute inside that process), as the
// server is a warm engine in one long-lived process: the protocols are charged with everything
// between the client's first request and its last page, and nothing a fresh process would pay
// (start-up, catalog load, first footers) flatters them.
// Then:
//   paging: one large SELECT paged to the end through Trino (rows/s) and through Athena's
//           GetQueryResults (1,000 rows a page, its maximum);
//   concurrency: 32 Trino clients running the suite round-robin (queries/s, p50/p99 ms).
// Athena's GetQueryExecution is held by the server until the query ends (or its hold passes):
// a held answer is polled again at once; a quick RUNNING answer (a server that does not hold)
// after a pause of 1, 2, 4, 4, ... ms (POLL_MAX_MS), as drivers poll.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { execFile, spawn } from 'node:child_process';
import readline from 'node:readline';
import { promisify } from 'node:util';
import path from 'node:path';
import fs from 'node:fs';

const execFileAsync = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tools/peers/package.json'));
const { Trino, BasicAuth } = require('trino-client');
const { SignatureV4 } = require('@smithy/signature-v4');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const { Sha256 } = require('@smithy/core/checksum');

const [endpoint, keyId, secret, lake, benchBin, repeatsArg] = process.argv.slice(2);
const REPEATS = Number(repeatsArg || 11);
const CLIENTS = Number(process.env.CLIENTS || 32);
const CONCURRENT_QUERIES = Number(process.env.CONCURRENT_QUERIES || 320);
const PAGING_SQL = process.env.PAGING_SQL ||
  'SELECT purchase_date, customer_id, product_id, amount, region, status FROM sales_data';
// A RUNNING answer that came back quicker than this was not held by the server: the next poll
// waits a pause growing to POLL_MAX_MS (polling without any pause took a core of this 2-core
// machine from the query it waited for).
const POLL_MAX_MS = Number(process.env.POLL_MAX_MS || 4);
const HELD_MS = 10;
const ATHENA_PAGING_LIMIT = Number(process.env.ATHENA_PAGING_LIMIT || 200000);
// A suite query with a larger result (the full-table ORDER BY) is a paging measurement, not a
// per-query overhead one: it is left to the paging phase and kept out of the concurrency mix.
const MAX_SUITE_ROWS = Number(process.env.MAX_SUITE_ROWS || 100000);
// Which phases run: suite, paging, concurrency (all by default; e.g. PHASES=paging), and
// athena-overhead (not by default): the suite's queries ATHENA_OVERHEAD_QUERIES through Athena,
// ATHENA_OVERHEAD_RUNS each, reporting the client's time minus the server's own
// TotalExecutionTimeInMillis (so engine time, which varies with the load, cancels out), the
// queue time, and the server's CPU per query. For a machine too busy for the suite's wall times.
const PHASES = new Set((process.env.PHASES || 'suite,paging,concurrency').split(','));
const ATHENA_OVERHEAD_RUNS = Number(process.env.ATHENA_OVERHEAD_RUNS || 10);
// (q1, q3 and q23 were the queries over the target; q7 has q1's 237 rows; q11-q13 and q16 are small)
// SUITE_ONLY=1,3 runs only those queries of the suite phase (1-based, as printed).
const SUITE_ONLY = new Set((process.env.SUITE_ONLY || '').split(',').filter((x) => x !== '').map(Number));
const ATHENA_OVERHEAD_QUERIES = (process.env.ATHENA_OVERHEAD_QUERIES || '1,3,7,11,12,13,16,23').split(',').map(Number);
// bench/trino_paging_client (built beside sql_dashboard_bench) and the server's pid, from the script.
const NATIVE_CLIENT = process.env.NATIVE_CLIENT || '';
const SERVER_PID = process.env.SERVER_PID || '';
const CLK_TCK = Number(process.env.CLK_TCK || 100);
const url = new URL(endpoint);

// utime + stime of the server process so far (NaN without SERVER_PID).
function serverCpuSeconds() {
  if (!SERVER_PID) return NaN;
  const stat = fs.readFileSync(`/proc/${SERVER_PID}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
const suite = fs.readFileSync(path.join(here, '../tests/sql/dashboard_suite.sql'), 'utf8')
  .split('\n').filter((l) => l.trim() !== '');

const trino = Trino.create({ server: endpoint, catalog: 'lake', schema: 'sales', auth: new BasicAuth(keyId, secret) });

let trinoElapsedMs = 0;  // the server's elapsedTimeMillis of the last viaTrino's query
async function viaTrino(sql, onRows) {
  const iter = await trino.query(sql);
  let rows = 0;
  for await (const result of iter) {
    if (result.error) throw new Error(`trino: ${result.error.errorName}: ${result.error.message}`);
    if (result.stats?.state === 'FINISHED') trinoElapsedMs = result.stats.elapsedTimeMillis;
    if (result.data) {
      rows += result.data.length;
      if (onRows) onRows(result.data);
    }
  }
  return rows;
}

const signer = new SignatureV4({
  service: 'athena', region: 'us-east-1', sha256: Sha256,
  credentials: { accessKeyId: keyId, secretAccessKey: secret },
});

// The AWS SDK for JavaScript's own node HTTP handler (keep-alive agent), as its clients send
// in node. (Until session 16 the bench sent with node's fetch: ~2x the client CPU per request,
// on the same 2 cores as the server and the query.)
const handler = new NodeHttpHandler();

async function signAthena(operation, body) {
  return signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/',
    headers: {
      host: url.host, 'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonAthena.${operation}`,
    },
    body: JSON.stringify(body),
  });
}

// ATHENA_HTTP=fetch sends with node's fetch instead, as the bench did until session 16 (for A/B).
const ATHENA_HTTP = process.env.ATHENA_HTTP || 'sdk';

async function send(signed) {
  if (ATHENA_HTTP === 'fetch') {
    const res = await fetch(`${endpoint}/`, { method: 'POST', headers: signed.headers, body: signed.body });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`athena ${signed.headers['x-amz-target']}: ${res.status} ${text}`);
    return JSON.parse(text);
  }
  const { response } = await handler.handle(signed);
  const chunks = [];
  for await (const chunk of response.body) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  if (response.statusCode !== 200) throw new Error(`athena ${signed.headers['x-amz-target']}: ${response.statusCode} ${text}`);
  return JSON.parse(text);
}

async function athena(operation, body) {
  return send(await signAthena(operation, body));
}

// Start, poll, page the result to the end. Returns rows (the header row of Athena's first page
// not counted) and the engine time the server reports. The poll is signed once and sent as often
// as needed (the same bytes; a signature holds for minutes): signing in node cost ~1.8 ms of CPU
// per request here, which, on the 2 cores the query runs on, was most of what polling added.
async function viaAthena(sql) {
  const { QueryExecutionId } = await athena('StartQueryExecution', {
    QueryString: sql, QueryExecutionContext: { Database: 'sales' }, WorkGroup: 'primary',
  });
  const poll = await signAthena('GetQueryExecution', { QueryExecutionId });
  let exec;
  let polls = 0;
  for (let pause = 1; ; ) {
    const t0 = performance.now();
    exec = (await send(poll)).QueryExecution;
    ++polls;
    const state = exec.Status.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') throw new Error(`athena: ${state}: ${exec.Status.StateChangeReason}`);
    if (performance.now() - t0 < HELD_MS) {
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(2 * pause, POLL_MAX_MS);
    }
  }
  let rows = -1;
  let token;
  do {
    const page = await athena('GetQueryResults', { QueryExecutionId, MaxResults: 1000, ...(token ? { NextToken: token } : {}) });
    rows += page.ResultSet.Rows.length;
    token = page.NextToken;
  } while (token);
  return {
    rows, polls, engineMs: exec.Statistics?.EngineExecutionTimeInMillis ?? null,
    queueMs: exec.Statistics?.QueryQueueTimeInMillis ?? 0, totalMs: exec.Statistics?.TotalExecutionTimeInMillis ?? 0,
  };
}

// The in-process side: one sql_dashboard_bench --lines for the whole run (a warm engine), asked
// one query at a time; its answer is the engine's own time for that run.
let inProc = null;
function inProcess(sql) {
  if (!inProc) {
    const child = spawn(benchBin, [lake, '--lines'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = [];
    readline.createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()(JSON.parse(line)));
    child.on('exit', (code) => { while (waiting.length) waiting.shift()({ error: `sql_dashboard_bench exited ${code}` }); });
    inProc = { child, waiting };
  }
  return new Promise((resolve, reject) => {
    inProc.waiting.push((r) => (r.error ? reject(new Error(`in-process: ${r.error}`)) : resolve(r)));
    inProc.child.stdin.write(sql.replace(/\n/g, ' ') + '\n');
  });
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const fmt = (x) => x.toFixed(1);

async function main() {
  const allowance = (ms) => 5 + 0.1 * ms;  // the target: overhead <= 5 ms + 10% of the query
  const sides = [
    ['in', async (sql) => (await inProcess(sql)).ms],
    ['trino', async (sql) => { const t0 = performance.now(); await viaTrino(sql); return performance.now() - t0; }],
    ['athena', async (sql) => { const t0 = performance.now(); await viaAthena(sql); return performance.now() - t0; }],
  ];
  if (PHASES.has('suite')) {
    console.log(`# suite: medians of ${REPEATS} interleaved rounds (in-process, Trino, Athena one after another, ` +
      `order rotated), after one unmeasured run of each; target: overhead <= 5 ms + 10% of in-process`);
    console.log(`query\tin_process_ms\ttrino_ms\tathena_ms\ttrino_overhead_ms\tathena_overhead_ms\tallowed_ms\ttrino\tathena\trows`);
  }
  let worstTrino = -Infinity;
  let worstAthena = -Infinity;
  let sumIn = 0;
  let sumTrino = 0;
  let sumAthena = 0;
  const over = { trino: [], athena: [] };
  let measured = 0;
  const mix = [];
  for (const [i, sql] of suite.entries()) {
    if (!PHASES.has('suite')) break;  // (and no mix for the concurrency phase)
    if (SUITE_ONLY.size > 0 && !SUITE_ONLY.has(i + 1)) continue;
    const local = await inProcess(sql);  // (also the in-process side's unmeasured run)
    if (local.rows > MAX_SUITE_ROWS) {
      console.log(`q${i + 1}\t${fmt(local.ms)}\t-\t-\t-\t-\t-\t-\t-\t${local.rows} (left to the paging phase)`);
      continue;
    }
    mix.push(sql);
    // One unmeasured run through each protocol: the server's first run of this text (catalog,
    // footers) and, for q1, the node process's first Athena calls (signer and JSON paths warmed:
    // tens of ms in session 15).
    const tRows = await viaTrino(sql);
    const aRows = (await viaAthena(sql)).rows;
    if (tRows !== local.rows || aRows !== local.rows) {
      throw new Error(`query ${i + 1}: rows differ: in-process ${local.rows}, trino ${tRows}, athena ${aRows}`);
    }
    const runs = { in: [], trino: [], athena: [] };
    for (let r = 0; r < REPEATS; r++) {
      for (let k = 0; k < sides.length; k++) {
        const [name, run] = sides[(r + k) % sides.length];
        runs[name].push(await run(sql));
      }
    }
    const m = { in: median(runs.in), trino: median(runs.trino), athena: median(runs.athena) };
    const ot = m.trino - m.in;
    const oa = m.athena - m.in;
    const allowed = allowance(m.in);
    const okT = ot <= allowed;
    const okA = oa <= allowed;
    if (!okT) over.trino.push(`q${i + 1}`);
    if (!okA) over.athena.push(`q${i + 1}`);
    ++measured;
    worstTrino = Math.max(worstTrino, ot - 0.1 * m.in);
    worstAthena = Math.max(worstAthena, oa - 0.1 * m.in);
    sumIn += m.in;
    sumTrino += m.trino;
    sumAthena += m.athena;
    console.log(`q${i + 1}\t${fmt(m.in)}\t${fmt(m.trino)}\t${fmt(m.athena)}\t${fmt(ot)}\t${fmt(oa)}\t${fmt(allowed)}\t` +
      `${okT ? 'ok' : 'OVER'}\t${okA ? 'ok' : 'OVER'}\t${local.rows}`);
  }
  if (PHASES.has('suite')) {
    const pctOf = (x) => `${x >= sumIn ? '+' : ''}${(100 * (x - sumIn) / sumIn).toFixed(1)}%`;
    console.log(`suite total (sum of medians): in-process ${fmt(sumIn)} ms, trino ${fmt(sumTrino)} ms (${pctOf(sumTrino)}), ` +
      `athena ${fmt(sumAthena)} ms (${pctOf(sumAthena)})`);
    console.log(`largest overhead beyond 10% of the query: trino ${fmt(worstTrino)} ms, athena ${fmt(worstAthena)} ms (target <= 5 ms)`);
    console.log(`within 5 ms + 10%: trino ${measured - over.trino.length}/${measured}` +
      `${over.trino.length ? ` (over: ${over.trino.join(' ')})` : ''}, athena ${measured - over.athena.length}/${measured}` +
      `${over.athena.length ? ` (over: ${over.athena.join(' ')})` : ''}`);
  }

  if (PHASES.has('athena-overhead')) {
    const all = [];
    let queued = 0;
    let cpu = 0;
    let clientCpu = 0;  // this node process's CPU (signing, HTTP, JSON), seconds
    for (const q of ATHENA_OVERHEAD_QUERIES) {
      const sql = suite[q - 1];
      const first = await viaAthena(sql);  // the server's first run of this text
      const over = [];
      for (let r = 0; r < ATHENA_OVERHEAD_RUNS; r++) {
        const cpu0 = serverCpuSeconds();
        const client0 = process.cpuUsage();
        const t0 = performance.now();
        const a = await viaAthena(sql);
        over.push(performance.now() - t0 - a.totalMs);
        cpu += serverCpuSeconds() - cpu0;
        const client = process.cpuUsage(client0);
        clientCpu += (client.user + client.system) / 1e6;
        queued += a.queueMs;
      }
      all.push(...over);
      console.log(`athena-overhead q${q}: client time - server TotalExecutionTime: median ${fmt(median(over))} ms, ` +
        `max ${fmt(Math.max(...over))} ms (${first.rows} rows)`);
    }
    console.log(`athena-overhead: ${all.length} queries: client time - server TotalExecutionTime median ` +
      `${fmt(median(all))} ms; queued ${(queued / all.length).toFixed(2)} ms a query; ` +
      `server CPU ${(1e3 * cpu / all.length).toFixed(2)} ms a query (its engine work included); ` +
      `client CPU ${(1e3 * clientCpu / all.length).toFixed(2)} ms a query (${ATHENA_HTTP})`);
  }

  // protocol-cpu: the server's CPU per run of each suite query (SUITE_ONLY, default q1 and q3)
  // through Trino and through Athena, alternated, median of ATHENA_OVERHEAD_RUNS: what a protocol
  // costs the server, read from /proc so that a busy machine does not change it as it does
  // wall times.
  if (PHASES.has('protocol-cpu') && SERVER_PID) {
    const queries = SUITE_ONLY.size > 0 ? [...SUITE_ONLY] : [1, 3];
    for (const q of queries) {
      const sql = suite[q - 1];
      await viaTrino(sql);  // the server's first run of this text
      const cpu = { trino: [], athena: [] };
      const wall = { trino: [], athena: [] };
      const total = [];
      const trinoTotal = [];
      const polls = [];
      for (let r = 0; r < ATHENA_OVERHEAD_RUNS; r++) {
        for (const [name, run] of [['trino', () => viaTrino(sql)], ['athena', () => viaAthena(sql)]]) {
          const c0 = serverCpuSeconds();
          const t0 = performance.now();
          const out = await run();
          wall[name].push(performance.now() - t0);
          cpu[name].push(1e3 * (serverCpuSeconds() - c0));
          (name === 'athena' ? total : trinoTotal).push(name === 'athena' ? out.totalMs : trinoElapsedMs);
          if (name === 'athena') polls.push(out.polls);
        }
      }
      console.log(`protocol-cpu q${q}: medians of ${ATHENA_OVERHEAD_RUNS}, alternated: server CPU trino ` +
        `${fmt(median(cpu.trino))} / athena ${fmt(median(cpu.athena))} ms; wall trino ${fmt(median(wall.trino))} / ` +
        `athena ${fmt(median(wall.athena))} ms (the server's submit-to-finish: trino ${fmt(median(trinoTotal))} / athena ${fmt(median(total))} ms); Athena polls a run ${median(polls)}`);
    }
  }

  // Paging: the whole result through Trino, with trino-client and with the native client; a
  // prefix of it through Athena's 1,000-row pages. The server's CPU time over each run (from
  // /proc, so other processes on the machine do not change it) is reported per row.
  if (PHASES.has('paging')) {
    const cpu0 = serverCpuSeconds();
    const t0 = performance.now();
    const rows = await viaTrino(PAGING_SQL);
    const s = (performance.now() - t0) / 1000;
    const cpu = serverCpuSeconds() - cpu0;
    console.log(`paging trino-client: ${rows} rows in ${s.toFixed(2)} s = ${Math.round(rows / s)} rows/s; ` +
      `server CPU ${cpu.toFixed(2)} s (${(1e6 * cpu / rows).toFixed(3)} µs/row)`);
    if (NATIVE_CLIENT) {
      const c0 = serverCpuSeconds();
      const { stdout } = await execFileAsync(NATIVE_CLIENT, [endpoint, keyId, secret, PAGING_SQL],
        { encoding: 'utf8', maxBuffer: 1 << 20 });
      const n = JSON.parse(stdout);
      const c = serverCpuSeconds() - c0;
      if (n.rows !== rows) throw new Error(`native client: ${n.rows} rows, trino-client ${rows}`);
      console.log(`paging native client: ${n.rows} rows (${n.pages} pages, ${(n.bytes / 1e6).toFixed(0)} MB) in ` +
        `${n.seconds.toFixed(2)} s = ${Math.round(n.rows_per_s)} rows/s; server CPU ${c.toFixed(2)} s ` +
        `(${(1e6 * c / n.rows).toFixed(3)} µs/row), client CPU ${n.client_cpu_s.toFixed(2)} s`);
    }
    const t1 = performance.now();
    const a = await viaAthena(`${PAGING_SQL} LIMIT ${ATHENA_PAGING_LIMIT}`);
    const s1 = (performance.now() - t1) / 1000;
    console.log(`paging athena: ${a.rows} rows in ${s1.toFixed(2)} s = ${Math.round(a.rows / s1)} rows/s`);
  }

  // Concurrency: CLIENTS Trino clients share CONCURRENT_QUERIES suite queries.
  if (PHASES.has('concurrency') && mix.length > 0) {
    let next = 0;
    const lat = [];
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      for (;;) {
        const k = next++;
        if (k >= CONCURRENT_QUERIES) return;
        const q0 = performance.now();
        await viaTrino(mix[k % mix.length]);
        lat.push(performance.now() - q0);
      }
    }));
    const s = (performance.now() - t0) / 1000;
    lat.sort((x, y) => x - y);
    console.log(`concurrency: ${CLIENTS} trino clients, ${CONCURRENT_QUERIES} queries in ${s.toFixed(2)} s = ` +
      `${(CONCURRENT_QUERIES / s).toFixed(1)} queries/s, p50 ${fmt(pct(lat, 0.5))} ms, p99 ${fmt(pct(lat, 0.99))} ms; ` +
      `one after another in-process: ${(mix.length / (sumIn / 1000)).toFixed(1)} queries/s`);
  }
}

main().then(() => { if (inProc) inProc.child.stdin.end(); })
  .catch((e) => { console.error(e); process.exit(1); });
