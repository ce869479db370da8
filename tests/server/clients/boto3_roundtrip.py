"""boto3 round trip against a saleslake server: put/get/list/multipart/delete, presign expiry.

Usage: boto3_roundtrip.py ENDPOINT BUCKET   (credentials from AWS_ACCESS_KEY_ID/SECRET env)
Exits 0 when every check passed; prints the first failure otherwise.
"""
import datetime
import hashlib
import sys
import types
import urllib.error
import urllib.request

import boto3
import botocore.auth
import botocore.config

endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                                retries={"max_attempts": 1}))


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)


# put / get with metadata and content type
body = b"hello from boto3\n" * 100
r = s3.put_object(Bucket=bucket, Key="raw_data/boto/a.txt", Body=body, ContentType="text/plain",
                  Metadata={"origin": "boto3"})
check(r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), "put ETag is the MD5")
g = s3.get_object(Bucket=bucket, Key="raw_data/boto/a.txt")
check(g["Body"].read() == body, "get returns the body")
check(g["ContentType"] == "text/plain", "content type kept")
check(g["Metadata"].get("origin") == "boto3", "user metadata kept")
h = s3.head_object(Bucket=bucket, Key="raw_data/boto/a.txt")
check(h["ContentLength"] == len(body), "head length")
rg = s3.get_object(Bucket=bucket, Key="raw_data/boto/a.txt", Range="bytes=-5")
check(rg["Body"].read() == body[-5:], "suffix range")

# list with delimiter and pagination
for i in range(5):
    s3.put_object(Bucket=bucket, Key="raw_data/boto/list/k%02d" % i, Body=b"x")
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw_data/boto/list/",
                                                     PaginationConfig={"PageSize": 2})
keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
check(keys == ["raw_data/boto/list/k%02d" % i for i in range(5)], "paginated listing: %r" % keys)
d = s3.list_objects_v2(Bucket=bucket, Prefix="raw_data/boto/", Delimiter="/")
check([c["Prefix"] for c in d.get("CommonPrefixes", [])] == ["raw_data/boto/list/"], "common prefixes")
v1 = s3.list_objects(Bucket=bucket, Prefix="raw_data/boto/list/", MaxKeys=3)
check(len(v1["Contents"]) == 3 and v1["IsTruncated"], "list v1 max-keys")

# multipart: two parts (5 MiB + a little), ETag md5-of-md5s-2
p1 = b"a" * (5 << 20)
p2 = b"b" * 1000
mp = s3.create_multipart_upload(Bucket=bucket, Key="raw_data/boto/big.bin", ContentType="application/x-test")
uid = mp["UploadId"]
e1 = s3.upload_part(Bucket=bucket, Key="raw_data/boto/big.bin", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
e2 = s3.upload_part(Bucket=bucket, Key="raw_data/boto/big.bin", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
parts = s3.list_parts(Bucket=bucket, Key="raw_data/boto/big.bin", UploadId=uid)["Parts"]
check([p["PartNumber"] for p in parts] == [1, 2], "list parts")
ups = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
check(any(u["UploadId"] == uid for u in ups), "list multipart uploads")
c = s3.complete_multipart_upload(Bucket=bucket, Key="raw_data/boto/big.bin", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                            {"PartNumber": 2, "ETag": e2}]})
want = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest() + "-2"
check(c["ETag"] == '"%s"' % want, "multipart ETag %s vs %s" % (c["ETag"], want))
got = s3.get_object(Bucket=bucket, Key="raw_data/boto/big.bin")
check(got["Body"].read() == p1 + p2 and got["ETag"] == '"%s"' % want, "multipart content")
check(got["ContentType"] == "application/x-test", "multipart content type")
# the server writes parts of one size in place (a stripe) and assembles other shapes by copying:
# each shape must give the bytes of its parts in order, with S3's ETag
def multipart(key, parts, order=None):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = {}
    for n in order or range(1, len(parts) + 1):
        etags[n] = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n, Body=parts[n - 1])["ETag"]
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=up)["Parts"]
    check([(p["PartNumber"], p["Size"]) for p in listed] == [(n, len(parts[n - 1])) for n in range(1, len(parts) + 1)],
          "%s: list parts %r" % (key, [(p["PartNumber"], p["Size"]) for p in listed]))
    c = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": etags[n]} for n in range(1, len(parts) + 1)]})
    want = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-%d" % len(parts)
    check(c["ETag"] == '"%s"' % want, "%s: ETag %s vs %s" % (key, c["ETag"], want))
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    check(got == b"".join(parts), "%s: content (%d bytes, want %d)" % (key, len(got), sum(map(len, parts))))

M = 5 << 20
multipart("raw_data/boto/mp/in-order.bin", [b"1" * M, b"2" * M, b"3" * 10])
multipart("raw_data/boto/mp/last-first.bin", [b"1" * M, b"2" * M, b"3" * 10], order=[3, 1, 2])
multipart("raw_data/boto/mp/uneven.bin", [b"1" * (M + 7), b"2" * M, b"3" * 10], order=[2, 1, 3])
multipart("raw_data/boto/mp/single.bin", [b"only" * 9])
# a part sent twice: the second one counts
up = s3.create_multipart_upload(Bucket=bucket, Key="raw_data/boto/mp/resent.bin")["UploadId"]
s3.upload_part(Bucket=bucket, Key="raw_data/boto/mp/resent.bin", UploadId=up, PartNumber=1, Body=b"a" * M)
e1 = s3.upload_part(Bucket=bucket, Key="raw_data/boto/mp/resent.bin", UploadId=up, PartNumber=1, Body=b"A" * M)["ETag"]
e2 = s3.upload_part(Bucket=bucket, Key="raw_data/boto/mp/resent.bin", UploadId=up, PartNumber=2, Body=b"z")["ETag"]
s3.complete_multipart_upload(Bucket=bucket, Key="raw_data/boto/mp/resent.bin", UploadId=up, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
check(s3.get_object(Bucket=bucket, Key="raw_data/boto/mp/resent.bin")["Body"].read() == b"A" * M + b"z",
      "a resent part replaces the first one")

# ListMultipartUploads pages with key and upload-id markers
open_ids = sorted((("raw_data/boto/pending/%d" % (i % 3)),
                   s3.create_multipart_upload(Bucket=bucket, Key="raw_data/boto/pending/%d" % (i % 3))["UploadId"])
                  for i in range(5))
pages = list(s3.get_paginator("list_multipart_uploads").paginate(
    Bucket=bucket, Prefix="raw_data/boto/pending/", PaginationConfig={"PageSize": 2}))
seen = [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])]
check(len(pages) == 3 and seen == open_ids, "paged uploads: %d pages %r vs %r" % (len(pages), seen, open_ids))
for key, uid in open_ids:
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)

# aborted upload leaves nothing
mp2 = s3.create_multipart_upload(Bucket=bucket, Key="raw_data/boto/aborted.bin")
s3.upload_part(Bucket=bucket, Key="raw_data/boto/aborted.bin", UploadId=mp2["UploadId"], PartNumber=1, Body=b"z")
s3.abort_multipart_upload(Bucket=bucket, Key="raw_data/boto/aborted.bin", UploadId=mp2["UploadId"])
try:
    s3.head_object(Bucket=bucket, Key="raw_data/boto/aborted.bin")
    check(False, "aborted upload must leave no object")
except s3.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] in ("404", "NoSuchKey"), "aborted -> 404")

# copy, conditional get, delete / delete_objects
s3.copy_object(Bucket=bucket, Key="raw_data/boto/copy.txt", CopySource={"Bucket": bucket, "Key": "raw_data/boto/a.txt"})
check(s3.get_object(Bucket=bucket, Key="raw_data/boto/copy.txt")["Body"].read() == body, "copy")
try:
    s3.get_object(Bucket=bucket, Key="raw_data/boto/a.txt", IfNoneMatch=r["ETag"])
    check(False, "If-None-Match must give 304")
except s3.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "304", "304: %r" % e.response["Error"])
s3.delete_object(Bucket=bucket, Key="raw_data/boto/copy.txt")
res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "raw_data/boto/list/k%02d" % i} for i in range(5)]})
check(len(res.get("Deleted", [])) == 5, "delete_objects")
left = s3.list_objects_v2(Bucket=bucket, Prefix="raw_data/boto/list/").get("KeyCount")
check(left == 0, "nothing left after delete_objects")
try:
    s3.get_object(Bucket=bucket, Key="raw_data/boto/copy.txt")
    check(False, "deleted object still readable")
except s3.exceptions.NoSuchKey:
    pass
# managed prefixes are read-only
try:
    s3.put_object(Bucket=bucket, Key="catalog/x", Body=b"x")
    check(False, "catalog/ must be read-only")
except s3.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "AccessDenied", "catalog/ write -> AccessDenied")

# presigned GET: valid now, and one signed two hours ago for one hour -> 403
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "raw_data/boto/a.txt"}, ExpiresIn=600)
try:
    check(urllib.request.urlopen(url).read() == body, "presigned GET")
except urllib.error.HTTPError as e:
    check(False, "presigned GET %s: %s %r" % (url, e.code, e.read()))


# A URL signed two hours ago for one hour: botocore's signers read the time from their module's
# `datetime`, so they get a copy of that module whose clock runs two hours behind.
real_datetime = datetime.datetime


class PastDatetime(real_datetime):
    @classmethod
    def utcnow(cls):
        return real_datetime.utcnow() - datetime.timedelta(hours=2)

    @classmethod
    def now(cls, tz=None):
        return real_datetime.now(tz) - datetime.timedelta(hours=2)


past = types.SimpleNamespace(**{k: getattr(datetime, k) for k in dir(datetime) if not k.startswith("__")})
past.datetime = PastDatetime
signer_modules = [botocore.auth]
try:
    import botocore.crt.auth
    signer_modules.append(botocore.crt.auth)
except ImportError:
    pass
saved = [m.datetime for m in signer_modules]
for m in signer_modules:
    m.datetime = past
old_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "raw_data/boto/a.txt"}, ExpiresIn=3600)
for m, d in zip(signer_modules, saved):
    m.datetime = d
try:
    urllib.request.urlopen(old_url)
    check(False, "expired presigned URL must be refused")
except urllib.error.HTTPError as e:
    check(e.code == 403 and b"AccessDenied" in e.read(), "expired presigned -> 403 AccessDenied")
print("boto3 round trip ok")
