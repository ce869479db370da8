// Kinesis load harness (bench/kinesis_vs_kinesalite.sh): PutRecords batches of 500 records of
// ~150 bytes from CLIENTS concurrent clients against any Kinesis endpoint (JSON 1.1 over HTTP/1.1).
//
// The generator must cost far less than the servers it measures: the SDK client
// (@aws-sdk/client-kinesis) spends ~100 µs of CPU per record (JSON, base64, SigV4 of 130 KB per
// request), five times what saleslake spends, and on a 2-core machine it would set the pace. So
// each client signs BATCHES distinct PutRecords requests up front with the SDK's own signer
// (@smithy/signature-v4, what the Kinesis client signs with: same canonical request, same
// headers) and replays them over one kept-alive connection with node's http module; per request
// only the response is parsed (FailedRecordCount). Both servers get the same bytes. Setup calls
// and GetRecords are signed when sent (they are few).
// Phases:
//   peak   every client puts back to back for SECONDS: acknowledged records/s, p50/p99 latency
//   half   the same clients paced to half the peak rate: p50/p99 latency
//   drain  GetRecords (Limit 10000) over every shard from TRIM_HORIZON until caught up: records/s
// Prints one JSON object. Usage:
//   node kinesis_load.mjs ENDPOINT STREAM [--clients 16] [--threads 4] [--seconds 10] [--shards 4]
//                                        [--batches 4]
// (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import http from 'node:http';

const require = createRequire(new URL('../tools/peers/package.json', import.meta.url));
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@smithy/core/checksum');

function makeSigner() {
  return new SignatureV4({
    service: 'kinesis', region: 'us-east-1', sha256: Sha256,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'AKIDBENCH',
                   secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench-secret' },
  });
}

// A signed JSON 1.1 request: { path, headers, body } ready to send as often as needed.
async function sign(signer, endpoint, op, input) {
  const url = new URL(endpoint);
  const body = Buffer.from(JSON.stringify(input));
  const req = {
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/',
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1',
               'x-amz-target': `Kinesis_20131202.${op}`, 'content-length': String(body.length) },
    body,
  };
  const signed = await signer.sign(req);
  return { path: '/', headers: signed.headers, body };
}

// Sends one signed request on `agent`; resolves { status, json }.
function send(endpoint, agent, r) {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: r.path, headers: r.headers, agent },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json = null;
          try { json = JSON.parse(text); } catch { json = { raw: text }; }
          resolve({ status: res.statusCode, json });
        });
        res.on('error', reject);
      });
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error('timeout')));
    req.end(r.body);
  });
}

async function call(endpoint, agent, signer, op, input) {
  const r = await send(endpoint, agent, await sign(signer, endpoint, op, input));
  if (r.status !== 200) {
    const e = new Error(`${op}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    e.name = (r.json && (r.json.__type || '').split('#').pop()) || 'Error';
    throw e;
  }
  return r.json;
}

// ~150-byte sales events (JSON with the raw table's columns), distinct partition keys.
function batch(seed) {
  const regions = ['North America', 'Western Europe', 'Asia Pacific', 'Latin America'];
  return Array.from({ length: 500 }, (_, i) => {
    const id = seed * 500 + i;
    const row = { purchase_date: '2025-08-01', customer_id: `CUST-${id % 200000}`, product_id: `SKU-${10000 + (id % 5000)}-HOME`,
                  amount: ((id * 37) % 100000) / 100, region: regions[id % 4], status: 'COMPLETED' };
    return { Data: Buffer.from(JSON.stringify(row)).toString('base64'), PartitionKey: `c${id}` };
  });
}

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

if (!isMainThread) {
  // A worker thread: `clients` clients, each replaying its pre-signed batches until `until`
  // (epoch ms), at most one batch per `interval_ms` when paced. Signing happens before `start`.
  const { endpoint, stream, clients, first, total, start, until, interval_ms, seed, batches } = workerData;
  const signer = makeSigner();
  const prepared = [];
  for (let c = 0; c < clients; ++c) {
    const mine = [];
    for (let b = 0; b < batches; ++b) {
      mine.push(await sign(signer, endpoint, 'PutRecords', { StreamName: stream, Records: batch(seed + c * batches + b) }));
    }
    prepared.push(mine);
  }
  parentPort.postMessage({ ready: true });
  await new Promise((r) => setTimeout(r, Math.max(0, start - Date.now())));
  const lat = [];
  let acked = 0, failed = 0, errors = 0, firstError = '';
  await Promise.all(prepared.map(async (mine, c) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // Paced clients start spread evenly over one interval: a steady rate, not all of them
    // sending at the same instant (which would measure bursts of clients × 500 records).
    let next = Date.now() + (interval_ms > 0 ? ((first + c) * interval_ms) / total : 0), n = 0;
    while (Date.now() < until) {
      if (interval_ms > 0) {
        const wait = next - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += interval_ms;
        if (Date.now() >= until) break;
      }
      const t0 = performance.now();
      try {
        const r = await send(endpoint, agent, mine[n++ % mine.length]);
        if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
        lat.push(performance.now() - t0);
        failed += r.json.FailedRecordCount;
        acked += 500 - r.json.FailedRecordCount;
      } catch (e) {
        if (!firstError) firstError = String(e.message);
        ++errors;
        if (errors > 100) break;
      }
    }
    agent.destroy();
  }));
  parentPort.postMessage({ lat, acked, failed, errors, firstError });
} else {
  const args = process.argv.slice(2);
  const [endpoint, stream] = args;
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const clients = opt('clients', 16), threads = opt('threads', 4), seconds = opt('seconds', 10),
        shards = opt('shards', 4), batches = opt('batches', 4);
  const signer = makeSigner();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    await call(endpoint, agent, signer, 'CreateStream', { StreamName: stream, ShardCount: shards });
  } catch (e) {
    if (e.name !== 'ResourceInUseException') throw e;
  }
  for (let i = 0; i < 100; ++i) {
    const d = await call(endpoint, agent, signer, 'DescribeStreamSummary', { StreamName: stream });
    if (d.StreamDescriptionSummary.StreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }

  async function phase(interval_ms, seedBase) {
    const per = Math.ceil(clients / threads);
    // Two steps: the workers sign (not timed) and report ready, then all start at one moment.
    const spawned = Array.from({ length: threads }, (_, t) => ({ n: Math.min(per, clients - t * per), t }))
      .filter((s) => s.n > 0).map((s) => {
        s.ready = new Promise((r) => { s.onReady = r; });
        s.done = new Promise((r, j) => { s.onDone = r; s.onError = j; });
        return s;
      });
    const leadMs = 1000 + 200 * clients * batches / threads;  // time to sign, generously
    const start = Date.now() + leadMs;
    const until = start + seconds * 1000;
    for (const s of spawned) {
      const w = new Worker(new URL(import.meta.url), {
        workerData: { endpoint, stream, clients: s.n, first: s.t * per, total: clients, start, until, interval_ms, batches, seed: seedBase + s.t * 1000 },
      });
      w.on('message', (m) => (m.ready ? s.onReady() : s.onDone(m)));
      w.on('error', s.onError);
    }
    await Promise.all(spawned.map((s) => s.ready));
    if (Date.now() > start) throw new Error(`signing took longer than ${leadMs} ms: raise the lead time`);
    const results = await Promise.all(spawned.map((s) => s.done));
    const elapsed = Math.max(0.001, (Date.now() - start) / 1000);
    const lat = results.flatMap((r) => r.lat).sort((a, b) => a - b);
    const acked = results.reduce((s, r) => s + r.acked, 0);
    const out = { acked, failed: results.reduce((s, r) => s + r.failed, 0), errors: results.reduce((s, r) => s + r.errors, 0),
                  seconds: +elapsed.toFixed(2), records_per_s: Math.round(acked / elapsed),
                  p50_ms: +pct(lat, 50).toFixed(1), p99_ms: +pct(lat, 99).toFixed(1), requests: lat.length };
    const firstError = results.map((r) => r.firstError).find((e) => e);
    if (firstError) out.first_error = firstError;
    return out;
  }

  const peak = await phase(0, 0);
  // Half the peak rate: each client sends one batch every clients * 500 / (peak / 2) seconds.
  const interval = peak.records_per_s > 0 ? (clients * 500 * 1000) / (peak.records_per_s / 2) : 1000;
  const half = await phase(interval, 100000);
  half.target_records_per_s = Math.round(peak.records_per_s / 2);

  // Drain: every shard from TRIM_HORIZON, one connection per shard.
  const t0 = performance.now();
  let drained = 0;
  const list = await call(endpoint, agent, signer, 'ListShards', { StreamName: stream });
  await Promise.all(list.Shards.map(async (s) => {
    const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let it = (await call(endpoint, a, signer, 'GetShardIterator',
      { StreamName: stream, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator;
    for (;;) {
      const r = await call(endpoint, a, signer, 'GetRecords', { ShardIterator: it, Limit: 10000 });
      drained += r.Records.length;
      it = r.NextShardIterator;
      if (r.Records.length === 0 || r.MillisBehindLatest === 0 && r.Records.length < 10000) break;
    }
    a.destroy();
  }));
  const dsec = (performance.now() - t0) / 1000;
  const drain = { records: drained, seconds: +dsec.toFixed(2), records_per_s: Math.round(drained / dsec) };
  agent.destroy();
  console.log(JSON.stringify({ endpoint, clients, threads, batch: 500, peak, half, drain }));
}
