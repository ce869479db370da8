// Reads every shard of a stream from TRIM_HORIZON with GetRecords and checks it against the
// acknowledgements of bench/kinesis_durability_1m.sh (tools/peers/kinesis_producer.mjs ack files,
// "id shard sequence" lines): every acknowledged record is there exactly once, at the shard and
// sequence number it was acknowledged with, and each shard reads in sequence order. Prints one
// JSON object with the counts and the figures sales_data must show after delivery (valid records
// stored, their amount in cents, distinct customers). Exits 1 when a check failed.
// Usage: node kinesis_verify.mjs ENDPOINT STREAM ACKFILE...
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const peers = new URL('../tools/peers/', import.meta.url).pathname;
const { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } =
  require(peers + 'node_modules/@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require(peers + 'node_modules/@smithy/node-http-handler');

const [endpoint, StreamName, ...ackFiles] = process.argv.slice(2);
const k = new KinesisClient({ endpoint, region: 'us-east-1', requestHandler: new NodeHttpHandler() });
const acked = new Map();
let duplicateAcks = 0;
for (const f of ackFiles) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line) continue;
    const [id, shard, seq] = line.split(' ');
    if (acked.has(id)) ++duplicateAcks;
    acked.set(id, `${shard} ${seq}`);
  }
}
const stored = new Map();
let outOfOrder = 0, storedTwice = 0, valid = 0, cents = 0n;
const customers = new Set();
const dec = new TextDecoder();
const shards = (await k.send(new ListShardsCommand({ StreamName }))).Shards;
for (const s of shards) {
  let it = (await k.send(new GetShardIteratorCommand({ StreamName, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  let prev = '';
  for (;;) {
    const r = await k.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
    for (const rec of r.Records) {
      if (rec.SequenceNumber <= prev) ++outOfOrder;
      prev = rec.SequenceNumber;
      const text = dec.decode(rec.Data);
      let id;
      if (text.startsWith('not json ')) {
        id = text.slice(9);
      } else {
        const row = JSON.parse(text);
        id = String(row.id);
        ++valid;
        cents += BigInt((row.id * 37) % 100000);
        customers.add(row.customer_id);
      }
      if (stored.has(id)) ++storedTwice;
      stored.set(id, `${s.ShardId} ${rec.SequenceNumber}`);
    }
    it = r.NextShardIterator;
    if (r.Records.length === 0 && r.MillisBehindLatest === 0) break;
  }
}
let missing = 0, moved = 0;
for (const [id, where] of acked) {
  if (!stored.has(id)) ++missing;
  else if (stored.get(id) !== where) ++moved;
}
const out = { acknowledged: acked.size, stored: stored.size, missing, moved, stored_twice: storedTwice,
              out_of_order: outOfOrder, duplicate_acks: duplicateAcks,
              expect_sales_data: { rows: valid, cents: cents.toString(), customers: customers.size } };
console.log(JSON.stringify(out));
process.exit(missing || moved || storedTwice || outOfOrder || duplicateAcks ? 1 : 0);
