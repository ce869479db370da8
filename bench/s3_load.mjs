// A lean load generator for bench/s3_vs_s3rver.sh: the AWS SDK's own SigV4 signer
// (@smithy/signature-v4, what @aws-sdk/client-s3 signs with) presigns every request before the
// clock starts. The
// SDK client of s3_bench.mjs costs about a millisecond of CPU per request, so on a 2-core machine
// it, not the server, sets the pace. Here curl (-Z, parallel transfers over kept-alive
// connections) carries the presigned requests, which leaves the servers as the bottleneck.
//   small: PUT then GET of 4 KB objects from CONCURRENCY parallel connections (ops/s, p50/p99 ms)
//   large: LARGE_MB up by multipart, 8 MB parts, 4 in flight (MB/s); then that object down to
//   /dev/null, best of 3 (MB/s)
// Usage: node bench/s3_load.mjs ENDPOINT BUCKET LABEL   (credentials from the environment)
// PAUSE_BEFORE_GET=SECONDS prints "get4k starts" and waits that long before the GET phase, so that
// a profiler can be attached to the server for the GETs alone (the figures are unchanged).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tools/peers/package.json'));
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@smithy/core/checksum');  // the hash @aws-sdk/client-s3 signs with

const [endpoint, Bucket, label] = process.argv.slice(2);
const SMALL_OPS = Number(process.env.SMALL_OPS || 20000);
const CONCURRENCY = Number(process.env.CONCURRENCY || 64);
const LARGE_MB = Number(process.env.LARGE_MB || 1024);
const url = new URL(endpoint);
const signer = new SignatureV4({
  service: 's3', region: 'us-east-1', sha256: Sha256,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
});

async function presign(method, key, query = {}) {
  const req = {
    method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port),
    path: `/${Bucket}/${key}`, query,
    // As @aws-sdk/s3-request-presigner does: S3 presigned URLs carry no payload hash.
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  };
  const signed = await signer.presign(req, { expiresIn: 3600 });
  const q = new URLSearchParams(signed.query).toString();
  return `${signed.path}?${q}`;
}

// One curl process per phase, CONCURRENCY transfers in flight over reused connections; -w prints
// each transfer's status and total time, from which the percentiles come.
function curlPhase(targets, upload, output, { parallel = CONCURRENCY, extra = [] } = {}) {
  const cfg = path.join(os.tmpdir(), `s3load-${process.pid}.cfg`);
  fs.writeFileSync(cfg, targets.map((t) => `url = "${url.origin}${t}"\n` +
    (upload ? `upload-file = "${upload}"\n` : '') + `output = "${output}"\n`).join(''));
  const t0 = process.hrtime.bigint();
  const r = spawnSync('curl', ['-sS', '-Z', '--parallel-max', String(parallel), '--parallel-immediate',
    '-w', '%{http_code} %{time_total} %{size_download} %header{etag}\n', ...extra, '-K', cfg],
  { maxBuffer: 1 << 28 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.unlinkSync(cfg);
  const lines = r.stdout.toString().trim().split('\n');
  const etags = lines.map((l) => l.split(' ')[3]);
  const rows = lines.map((l) => l.split(' ').slice(0, 3).map(Number));
  const bad = rows.filter(([code]) => code < 200 || code >= 300);
  if (r.status !== 0 || rows.length !== targets.length || bad.length) {
    throw new Error(`curl: exit ${r.status}, ${rows.length}/${targets.length} answers, ${bad.length} failed (first: ${bad[0]}) ${r.stderr}`);
  }
  return { secs, rows, etags };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
function phase(name, targets, upload) {
  const { secs, rows } = curlPhase(targets, upload, '/dev/null');
  const lat = rows.map((r) => r[1] * 1000).sort((a, b) => a - b);
  console.log(`${label} lean_${name} ops_per_s ${(targets.length / secs).toFixed(0)} p50_ms ${pct(lat, 0.5).toFixed(2)} p99_ms ${pct(lat, 0.99).toFixed(2)}`);
}

const run = crypto.randomBytes(4).toString('hex');
const keys = Array.from({ length: SMALL_OPS }, (_, i) => `bench/lean-${run}/${i}`);
const puts = await Promise.all(keys.map((k) => presign('PUT', k)));
const gets = await Promise.all(keys.map((k) => presign('GET', k)));
const small = path.join(os.tmpdir(), `s3load-${process.pid}.4k`);
fs.writeFileSync(small, Buffer.alloc(4096, 's'));
phase('put4k', puts, small);
if (Number(process.env.PAUSE_BEFORE_GET || 0) > 0) {
  console.log(`${label} get4k starts`);
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.PAUSE_BEFORE_GET) * 1000));
}
phase('get4k', gets, null);
fs.unlinkSync(small);
if (LARGE_MB > 0) {
  // Multipart as the SDK's s3_bench.mjs does it: 8 MB parts, 4 in flight, no checksums.
  const key = `bench/lean-${run}/large.bin`;
  const part = path.join(os.tmpdir(), `s3load-${process.pid}.part`);
  fs.writeFileSync(part, Buffer.alloc(8 << 20, 'L'));
  const nparts = Math.ceil(LARGE_MB / 8);
  const create = await presign('POST', key, { uploads: '' });
  const partUrls = [];
  const t0 = process.hrtime.bigint();
  const init = spawnSync('curl', ['-sS', '-X', 'POST', `${url.origin}${create}`]);
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.stdout.toString())?.[1];
  if (!uploadId) throw new Error(`CreateMultipartUpload: ${init.stdout}${init.stderr}`);
  for (let n = 1; n <= nparts; ++n) partUrls.push(await presign('PUT', key, { partNumber: String(n), uploadId }));
  const { etags } = curlPhase(partUrls, part, '/dev/null', { parallel: 4 });
  const xml = path.join(os.tmpdir(), `s3load-${process.pid}.xml`);
  fs.writeFileSync(xml, `<CompleteMultipartUpload>${etags.map((e, i) =>
    `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`);
  const done = spawnSync('curl', ['-sS', '-X', 'POST', '--data-binary', `@${xml}`,
    `${url.origin}${await presign('POST', key, { uploadId })}`]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;  // presigning included: it is fast
  fs.unlinkSync(part);
  fs.unlinkSync(xml);
  if (!/<CompleteMultipartUploadResult/.test(done.stdout.toString())) throw new Error(`Complete: ${done.stdout}${done.stderr}`);
  console.log(`${label} lean_put_large_mb_per_s ${(nparts * 8 / secs).toFixed(0)} (${nparts * 8} MB in ${secs.toFixed(2)} s)`);
  const target = await presign('GET', key);
  let best = 0;
  for (let round = 0; round < 3; ++round) {  // the first read may still come from disk
    const { secs, rows } = curlPhase([target], null, '/dev/null');
    best = Math.max(best, rows[0][2] / 1048576 / secs);
  }
  console.log(`${label} lean_get_large_mb_per_s ${best.toFixed(0)} (best of 3)`);
}
