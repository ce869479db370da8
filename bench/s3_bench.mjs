// One side of bench/s3_vs_s3rver.sh: drives an S3 endpoint with @aws-sdk/client-s3.
//   small: PUT then GET of 4 KB objects from CONCURRENCY parallel clients (ops/s, p50/p99 ms)
//   large: one LARGE_MB object up by multipart (8 MB parts, 4 in flight) and down (MB/s)
// Usage: node bench/s3_bench.mjs ENDPOINT BUCKET LABEL   (credentials from the environment;
// SMALL_OPS, CONCURRENCY, LARGE_MB override the defaults 20000, 64, 1024)
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import http from 'node:http';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tools/peers/package.json'));
const {
  S3Client, PutObjectCommand, GetObjectCommand, CreateMultipartUploadCommand, UploadPartCommand,
  CompleteMultipartUploadCommand,
} = require('@aws-sdk/client-s3');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const [endpoint, Bucket, label] = process.argv.slice(2);
const SMALL_OPS = Number(process.env.SMALL_OPS || 20000);
const CONCURRENCY = Number(process.env.CONCURRENCY || 64);
const LARGE_MB = Number(process.env.LARGE_MB || 1024);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const s3 = new S3Client({
  endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
  requestHandler: new NodeHttpHandler({ httpAgent: agent }),
});

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
async function phase(name, op) {
  const lat = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < SMALL_OPS; i = next++) {
      const s = process.hrtime.bigint();
      await op(i);
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
  }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  console.log(`${label} ${name} ops_per_s ${(SMALL_OPS / secs).toFixed(0)} p50_ms ${pct(lat, 0.5).toFixed(2)} p99_ms ${pct(lat, 0.99).toFixed(2)}`);
}

const small = Buffer.alloc(4096, 's');
await phase('put4k', (i) => s3.send(new PutObjectCommand({ Bucket, Key: `bench/small/${i}`, Body: small })));
await phase('get4k', async (i) => {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key: `bench/small/${i}` }));
  await r.Body.transformToByteArray();
});

if (LARGE_MB > 0) {
  const part = Buffer.alloc(8 << 20, 'L');
  const nparts = Math.ceil(LARGE_MB / 8);
  const Key = 'bench/large.bin';
  let t0 = process.hrtime.bigint();
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const etags = new Array(nparts);
  let next = 1;
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let n = next++; n <= nparts; n = next++) {
      etags[n - 1] = (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body: part }))).ETag;
    }
  }));
  await s3.send(new CompleteMultipartUploadCommand({
    Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
  }));
  let secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${label} put_large_mb_per_s ${(nparts * 8 / secs).toFixed(0)} (${nparts * 8} MB in ${secs.toFixed(2)} s)`);
  t0 = process.hrtime.bigint();
  const r = await s3.send(new GetObjectCommand({ Bucket, Key }));
  let bytes = 0;
  for await (const chunk of r.Body) bytes += chunk.length;
  secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${label} get_large_mb_per_s ${(bytes / 1048576 / secs).toFixed(0)} (${(bytes / 1048576).toFixed(0)} MB in ${secs.toFixed(2)} s)`);
}
agent.destroy();
