// Kinesis load harness (bench/kinesis_vs_kinesalite.sh): PutRecords batches of 500 records of
// ~150 bytes from CLIENTS concurrent clients (@aws-sdk/client-kinesis with its HTTP/1.1 handler,
// one client and connection each, spread over THREADS worker threads), against any Kinesis
// endpoint. Phases:
//   peak   every client puts back to back for SECONDS: acknowledged records/s, p50/p99 latency
//   half   the same clients paced to half the peak rate: p50/p99 latency
//   drain  GetRecords (Limit 10000) over every shard from TRIM_HORIZON until caught up: records/s
// Prints one JSON object. Usage:
//   node kinesis_load.mjs ENDPOINT STREAM [--clients 16] [--threads 4] [--seconds 10] [--shards 4]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const peers = new URL('../tools/peers/', import.meta.url).pathname;
const { KinesisClient, PutRecordsCommand, CreateStreamCommand, DescribeStreamSummaryCommand, ListShardsCommand,
        GetShardIteratorCommand, GetRecordsCommand } = require(peers + 'node_modules/@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require(peers + 'node_modules/@smithy/node-http-handler');
const http = require('node:http');

function client(endpoint) {
  return new KinesisClient({
    endpoint, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'AKIDBENCH',
                   secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench-secret' },
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
                                          connectionTimeout: 5000, requestTimeout: 60000 }),
  });
}

// ~150-byte sales events (JSON with the raw table's columns), distinct partition keys.
function batch(seed) {
  const enc = new TextEncoder();
  const regions = ['North America', 'Western Europe', 'Asia Pacific', 'Latin America'];
  return Array.from({ length: 500 }, (_, i) => {
    const id = seed * 500 + i;
    const row = { purchase_date: '2025-08-01', customer_id: `CUST-${id % 200000}`, product_id: `SKU-${10000 + (id % 5000)}-HOME`,
                  amount: ((id * 37) % 100000) / 100, region: regions[id % 4], status: 'COMPLETED' };
    return { Data: enc.encode(JSON.stringify(row)), PartitionKey: `c${id}` };
  });
}

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

if (!isMainThread) {
  // A worker thread: `clients` clients, each putting its batch until `until` (epoch ms), at most
  // one batch per `interval_ms` when paced.
  const { endpoint, stream, clients, until, interval_ms, seed } = workerData;
  const lat = [];
  let acked = 0, failed = 0, errors = 0;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const k = client(endpoint);
    const Records = batch(seed + c);
    let next = Date.now();
    while (Date.now() < until) {
      if (interval_ms > 0) {
        const wait = next - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += interval_ms;
        if (Date.now() >= until) break;
      }
      const t0 = performance.now();
      try {
        const out = await k.send(new PutRecordsCommand({ StreamName: stream, Records }));
        lat.push(performance.now() - t0);
        failed += out.FailedRecordCount;
        acked += Records.length - out.FailedRecordCount;
      } catch (e) {
        ++errors;
        if (errors > 100) break;
      }
    }
  }));
  parentPort.postMessage({ lat, acked, failed, errors });
} else {
  const args = process.argv.slice(2);
  const [endpoint, stream] = args;
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const clients = opt('clients', 16), threads = opt('threads', 4), seconds = opt('seconds', 10), shards = opt('shards', 4);
  const k = client(endpoint);
  try {
    await k.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  } catch (e) {
    if (e.name !== 'ResourceInUseException') throw e;
  }
  for (let i = 0; i < 100; ++i) {
    const d = await k.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (d.StreamDescriptionSummary.StreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }

  async function phase(interval_ms) {
    const until = Date.now() + seconds * 1000;
    const t0 = performance.now();
    const per = Math.ceil(clients / threads);
    const results = await Promise.all(Array.from({ length: threads }, (_, t) => new Promise((resolve, reject) => {
      const n = Math.min(per, clients - t * per);
      if (n <= 0) return resolve({ lat: [], acked: 0, failed: 0, errors: 0 });
      const w = new Worker(new URL(import.meta.url), { workerData: { endpoint, stream, clients: n, until, interval_ms, seed: t * 1000 } });
      w.on('message', resolve);
      w.on('error', reject);
    })));
    const elapsed = (performance.now() - t0) / 1000;
    const lat = results.flatMap((r) => r.lat).sort((a, b) => a - b);
    const acked = results.reduce((s, r) => s + r.acked, 0);
    return { acked, failed: results.reduce((s, r) => s + r.failed, 0), errors: results.reduce((s, r) => s + r.errors, 0),
             seconds: +elapsed.toFixed(2), records_per_s: Math.round(acked / elapsed),
             p50_ms: +pct(lat, 50).toFixed(1), p99_ms: +pct(lat, 99).toFixed(1), requests: lat.length };
  }

  const peak = await phase(0);
  // Half the peak rate: each client sends one batch every clients * 500 / (peak / 2) seconds.
  const interval = peak.records_per_s > 0 ? (clients * 500 * 1000) / (peak.records_per_s / 2) : 1000;
  const half = await phase(interval);
  half.target_records_per_s = Math.round(peak.records_per_s / 2);

  // Drain: every shard from TRIM_HORIZON.
  const t0 = performance.now();
  let drained = 0;
  const list = await k.send(new ListShardsCommand({ StreamName: stream }));
  await Promise.all(list.Shards.map(async (s) => {
    const kc = client(endpoint);
    let it = (await kc.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (;;) {
      const r = await kc.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      drained += r.Records.length;
      it = r.NextShardIterator;
      if (r.Records.length === 0 || r.MillisBehindLatest === 0 && r.Records.length < 10000) break;
    }
  }));
  const dsec = (performance.now() - t0) / 1000;
  const drain = { records: drained, seconds: +dsec.toFixed(2), records_per_s: Math.round(drained / dsec) };
  console.log(JSON.stringify({ endpoint, clients, threads, batch: 500, peak, half, drain }));
}
