// A Kinesis producer for the durability test (tests/server) and the benchmark: puts COUNT sales
// records with ids START.. in PutRecords batches of BATCH from CONCURRENCY workers, and appends
// "id shard sequence" for every record the server acknowledged to ACKFILE (synchronously, after
// each reply). It stops at the first failed request (the server was killed) and exits 0.
// Usage: node kinesis_producer.mjs ENDPOINT STREAM START COUNT CONCURRENCY ACKFILE [BATCH]
import { appendFileSync } from 'node:fs';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const [endpoint, StreamName, startArg, countArg, concArg, ackFile, batchArg] = process.argv.slice(2);
const start = Number(startArg), count = Number(countArg), batch = Number(batchArg ?? 500);
const k = new KinesisClient({ endpoint, region: 'us-east-1', maxAttempts: 1,
                              requestHandler: new NodeHttpHandler({ connectionTimeout: 2000, requestTimeout: 20000 }) });
const enc = new TextEncoder();
const regions = ['North', 'South', 'East', 'West'];

// A sales event with the raw table's columns (~150 bytes); one in 500 is not JSON at all (the
// log keeps raw bytes; delivery quarantines it).
const statuses = ['COMPLETED', 'COMPLETED', 'PENDING', 'REFUNDED', 'OUT'];
function record(id) {
  if (id % 500 === 499) return { Data: enc.encode(`not json ${id}`), PartitionKey: `c${id % 97}` };
  const row = {
    id, purchase_date: `2026-${String(1 + (id % 12)).padStart(2, '0')}-${String(1 + (id % 28)).padStart(2, '0')}`,
    customer_id: `CUST-${id % 5000}`, product_id: `SKU-${10000 + (id % 300)}-HOME-LAMP`,
    amount: ((id * 37) % 100000) / 100, region: regions[id % 4], status: statuses[id % 5],
  };
  return { Data: enc.encode(JSON.stringify(row)), PartitionKey: `c${id % 97}` };
}

let next = start, stopped = false;
async function worker() {
  while (!stopped && next < start + count) {
    const first = next;
    const n = Math.min(batch, start + count - first);
    next += n;
    const Records = Array.from({ length: n }, (_, i) => record(first + i));
    try {
      const out = await k.send(new PutRecordsCommand({ StreamName, Records }));
      let lines = '';
      out.Records.forEach((r, i) => {
        if (r.SequenceNumber) lines += `${first + i} ${r.ShardId} ${r.SequenceNumber}\n`;
      });
      appendFileSync(ackFile, lines);
    } catch (e) {
      stopped = true;
    }
  }
}
await Promise.all(Array.from({ length: Number(concArg) }, worker));
