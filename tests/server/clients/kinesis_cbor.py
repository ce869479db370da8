"""A Kinesis client speaking AWS's CBOR format (application/x-amz-cbor-1.1), as the AWS SDK for
Java and the Kinesis Client Library do by default: requests encoded with cbor2 (Debian
python3-cbor2) and signed by botocore's own SigV4 signer; blobs as byte strings, timestamps as
tag 1 over epoch milliseconds. boto3 itself sends JSON only, hence this small client.

Usage: kinesis_cbor.py ENDPOINT STREAM   (credentials from AWS_ACCESS_KEY_ID/SECRET env)
Exits 0 when every check passed; prints the first failure otherwise.
"""
import os
import sys
import time
import urllib.error
import urllib.request

import cbor2
import cbor2.decoder as cbor_decoder
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint, stream = sys.argv[1], sys.argv[2]
# AWS's tag 1 holds milliseconds, not the RFC's seconds (which cbor2 would turn into a datetime out
# of range): the answers are read with cbor2's Python decoder, tag 1 kept as a plain tag.
cbor_decoder.semantic_decoders.pop(1, None)
loads = cbor_decoder.loads
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)


def call(op, body, raw=None):
    data = raw if raw is not None else cbor2.dumps(body)
    req = AWSRequest(method="POST", url=endpoint + "/", data=data, headers={
        "Content-Type": "application/x-amz-cbor-1.1", "X-Amz-Target": "Kinesis_20131202." + op})
    SigV4Auth(creds, "kinesis", "us-east-1").add_auth(req)
    http = urllib.request.Request(endpoint + "/", data=data, method="POST", headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(http, timeout=30) as resp:
            check(resp.headers["Content-Type"] == "application/x-amz-cbor-1.1", op + " answers in CBOR")
            return resp.status, loads(resp.read())
    except urllib.error.HTTPError as e:
        check(e.headers["Content-Type"] == "application/x-amz-cbor-1.1", op + " errors in CBOR")
        return e.code, loads(e.read())


def ms_tag(ms):
    return cbor2.CBORTag(1, ms)


status, _ = call("CreateStream", {"StreamName": stream, "ShardCount": 2})
check(status == 200, "CreateStream")
for _ in range(50):
    status, d = call("DescribeStreamSummary", {"StreamName": stream})
    if d["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
        break
    time.sleep(0.1)
created = d["StreamDescriptionSummary"]["StreamCreationTimestamp"]
check(getattr(created, "tag", None) == 1 and created.value > 1.5e12,
      "StreamCreationTimestamp is tag 1 over milliseconds: %r" % (created,))

# Bytes that are not text (and not valid UTF-8) must come back as they went in.
payloads = [bytes([i, 0xff, 0x00, 0xc3]) + b"cbor-%d" % i for i in range(20)]
before_ms = int(time.time() * 1000) - 5000
status, one = call("PutRecord", {"StreamName": stream, "Data": payloads[0], "PartitionKey": "k0"})
check(status == 200 and one["ShardId"].startswith("shardId-"), "PutRecord: %r" % (one,))
status, out = call("PutRecords", {"StreamName": stream, "Records": [
    {"Data": p, "PartitionKey": "k%d" % i} for i, p in enumerate(payloads[1:], start=1)]})
check(status == 200 and out["FailedRecordCount"] == 0, "PutRecords: %r" % (out,))

got = {}
status, shards = call("ListShards", {"StreamName": stream})
for shard in shards["Shards"]:
    status, it = call("GetShardIterator", {"StreamName": stream, "ShardId": shard["ShardId"],
                                           "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ms_tag(before_ms)})
    check(status == 200, "GetShardIterator AT_TIMESTAMP (tag 1, ms): %r" % (it,))
    status, page = call("GetRecords", {"ShardIterator": it["ShardIterator"], "Limit": 100})
    check(status == 200, "GetRecords: %r" % (page,))
    for r in page["Records"]:
        check(isinstance(r["Data"], bytes), "Data is a byte string")
        ts = r["ApproximateArrivalTimestamp"]
        check(getattr(ts, "tag", None) == 1 and abs(ts.value - time.time() * 1000) < 600000,
              "ApproximateArrivalTimestamp is tag 1 over milliseconds: %r" % (ts,))
        got[r["Data"]] = r["SequenceNumber"]
check(sorted(got) == sorted(payloads), "every record read back byte for byte (%d of %d)" % (len(got), len(payloads)))

# A timestamp after every record: nothing to read.
later = ms_tag(int(time.time() * 1000) + 60000)
status, it = call("GetShardIterator", {"StreamName": stream, "ShardId": shards["Shards"][0]["ShardId"],
                                       "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": later})
if status == 200:
    status, page = call("GetRecords", {"ShardIterator": it["ShardIterator"]})
    check(page["Records"] == [], "no records after a later timestamp")

# Errors keep Kinesis's types, in CBOR.
status, err = call("DescribeStreamSummary", {"StreamName": "no-such-stream"})
check(status == 400 and err.get("__type") == "ResourceNotFoundException", "unknown stream: %r" % (err,))
status, err = call("PutRecord", None, raw=b"\xa1\x64Data\x5f\x41")  # a byte string cut short
check(status == 400 and err.get("__type") == "SerializationException", "truncated CBOR: %r" % (err,))
print("cbor kinesis ok")
