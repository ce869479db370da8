// @aws-sdk/client-s3 round trip against a saleslake server (tests/server): put/get/list/
// multipart/delete with the SDK's default checksum settings (aws-chunked bodies with CRC
// trailers). Usage: node s3_sdk_roundtrip.mjs ENDPOINT BUCKET (credentials from the env).
import { createHash } from 'node:crypto';
import {
  S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, DeleteObjectCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand,
  HeadObjectCommand, DeleteObjectsCommand,
} from '@aws-sdk/client-s3';

const [endpoint, Bucket] = process.argv.slice(2);
const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1 });
const md5 = (b) => createHash('md5').update(b).digest('hex');
const fail = (what) => { console.log('FAILED:', what); process.exit(1); };
const check = (cond, what) => { if (!cond) fail(what); };

const body = Buffer.from('hello from the JavaScript SDK\n'.repeat(200));
const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'raw_data/js/a.txt', Body: body, ContentType: 'text/plain' }));
check(put.ETag === `"${md5(body)}"`, `put ETag ${put.ETag}`);
const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'raw_data/js/a.txt' }));
const bytes = Buffer.from(await got.Body.transformToByteArray());
check(bytes.equals(body), 'get body');
check(got.ContentType === 'text/plain', 'content type');

const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'raw_data/js/' }));
check(list.Contents?.length === 1 && list.Contents[0].Key === 'raw_data/js/a.txt', 'list');

const p1 = Buffer.alloc(5 << 20, 'p');
const p2 = Buffer.alloc(777, 'q');
const Key = 'raw_data/js/multi.bin';
const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
const e1 = (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: p1 }))).ETag;
const e2 = (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: p2 }))).ETag;
const done = await s3.send(new CompleteMultipartUploadCommand({
  Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] },
}));
const want = createHash('md5').update(Buffer.concat([createHash('md5').update(p1).digest(), createHash('md5').update(p2).digest()])).digest('hex') + '-2';
check(done.ETag === `"${want}"`, `multipart ETag ${done.ETag} vs ${want}`);
const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
check(head.ContentLength === p1.length + p2.length, 'multipart size');

await s3.send(new DeleteObjectCommand({ Bucket, Key: 'raw_data/js/a.txt' }));
await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key }] } }));
const after = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'raw_data/js/' }));
check((after.KeyCount ?? 0) === 0, 'deleted');
console.log('sdk round trip ok');
