// @aws-sdk/client-kinesis round trip against a saleslake server (tests/server): create, list
// shards, PutRecord/PutRecords, read back per shard in order. The SDK's Kinesis client speaks
// HTTP/2 by default; like users of local Kinesis servers, this gives it the HTTP/1.1 handler.
// Usage: node kinesis_sdk_roundtrip.mjs ENDPOINT STREAM (credentials from the env).
import {
  KinesisClient, CreateStreamCommand, ListShardsCommand, PutRecordCommand, PutRecordsCommand,
  GetShardIteratorCommand, GetRecordsCommand, DescribeStreamSummaryCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const [endpoint, StreamName] = process.argv.slice(2);
const k = new KinesisClient({ endpoint, region: 'us-east-1', maxAttempts: 1,
                              requestHandler: new NodeHttpHandler() });
const fail = (what) => { console.log('FAILED:', what); process.exit(1); };
const check = (cond, what) => { if (!cond) fail(what); };
const enc = new TextEncoder(), dec = new TextDecoder();

await k.send(new CreateStreamCommand({ StreamName, ShardCount: 2 }));
const summary = await k.send(new DescribeStreamSummaryCommand({ StreamName }));
check(summary.StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'active');
const { Shards } = await k.send(new ListShardsCommand({ StreamName }));
check(Shards.length === 2, 'two shards');

const expected = new Map();
const one = await k.send(new PutRecordCommand({ StreamName, Data: enc.encode('js-first'), PartitionKey: 'a' }));
expected.set(one.ShardId, ['js-first']);
const Records = Array.from({ length: 200 }, (_, i) => ({ Data: enc.encode(`js-${i}`), PartitionKey: `k${i % 5}` }));
const out = await k.send(new PutRecordsCommand({ StreamName, Records }));
check(out.FailedRecordCount === 0, 'no failures');
out.Records.forEach((r, i) => {
  if (!expected.has(r.ShardId)) expected.set(r.ShardId, []);
  expected.get(r.ShardId).push(`js-${i}`);
});
for (const [ShardId, datas] of expected) {
  let { ShardIterator } = await k.send(new GetShardIteratorCommand({ StreamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
  const got = [];
  for (let round = 0; round < 100; ++round) {
    const page = await k.send(new GetRecordsCommand({ ShardIterator, Limit: 33 }));
    for (const r of page.Records) {
      got.push(dec.decode(r.Data));
      check(r.ApproximateArrivalTimestamp instanceof Date, 'arrival is a date');
    }
    ShardIterator = page.NextShardIterator;
    if (page.Records.length === 0) break;
  }
  check(JSON.stringify(got) === JSON.stringify(datas), `shard ${ShardId} in order`);
}
try {
  await k.send(new GetRecordsCommand({ ShardIterator: 'ab'.repeat(60) }));
  fail('a forged iterator was accepted');
} catch (e) {
  check(e.name === 'InvalidArgumentException', `forged iterator: ${e.name}`);
}
console.log('sdk kinesis ok');
