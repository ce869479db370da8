"""boto3 Kinesis round trip against a saleslake server: create, list shards, put (one and a
batch, ExplicitHashKey), read back per shard in order with every iterator type, error types.

Usage: kinesis_boto3.py ENDPOINT STREAM   (credentials from AWS_ACCESS_KEY_ID/SECRET env)
Exits 0 when every check passed; prints the first failure otherwise.
"""
import sys

import boto3
import botocore.config
import botocore.exceptions

endpoint, stream = sys.argv[1], sys.argv[2]
k = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                 config=botocore.config.Config(retries={"max_attempts": 1}))


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)


def error_code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return "no error"


k.create_stream(StreamName=stream, ShardCount=4)
k.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
shards = k.list_shards(StreamName=stream)["Shards"]
check(len(shards) == 4, "4 shards")
check(shards[3]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1), "last hash key")
check(shards[1]["HashKeyRange"]["StartingHashKey"] == str(2**126), "shard 1 start")

one = k.put_record(StreamName=stream, Data=b"first", PartitionKey="p0")
records = [{"Data": ("rec-%d" % i).encode(), "PartitionKey": "p%d" % (i % 9)} for i in range(300)]
records.append({"Data": b"explicit", "PartitionKey": "x", "ExplicitHashKey": str(3 * 2**126)})
out = k.put_records(StreamName=stream, Records=records)
check(out["FailedRecordCount"] == 0, "no failed records")
check(out["Records"][-1]["ShardId"] == "shardId-000000000003", "explicit hash key routes to shard 3")

expected = {}
expected.setdefault(one["ShardId"], []).append(b"first")
for r, res in zip(records, out["Records"]):
    expected.setdefault(res["ShardId"], []).append(r["Data"])
for shard, datas in expected.items():
    it = k.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    got, seqs = [], []
    for _ in range(100):
        page = k.get_records(ShardIterator=it, Limit=25)
        got += [r["Data"] for r in page["Records"]]
        seqs += [int(r["SequenceNumber"]) for r in page["Records"]]
        for r in page["Records"]:
            check(r["ApproximateArrivalTimestamp"].year >= 2020, "arrival timestamp")
        it = page["NextShardIterator"]
        if not page["Records"]:
            check(page["MillisBehindLatest"] == 0, "caught up")
            break
    check(got == datas, "shard %s reads back in order" % shard)
    check(seqs == sorted(seqs), "increasing sequence numbers")
    after = k.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                 StartingSequenceNumber=str(seqs[0]))["ShardIterator"]
    nxt = k.get_records(ShardIterator=after, Limit=1)["Records"]
    check(len(datas) < 2 or nxt[0]["Data"] == datas[1], "AFTER_SEQUENCE_NUMBER")

check(error_code(k.describe_stream, StreamName="missing") == "ResourceNotFoundException", "not found")
check(error_code(k.create_stream, StreamName=stream, ShardCount=1) == "ResourceInUseException", "in use")
check(error_code(k.get_records, ShardIterator="00" * 60) == "InvalidArgumentException", "bad iterator")
big = [{"Data": b"x", "PartitionKey": "k"}] * 501
check(error_code(k.put_records, StreamName=stream, Records=big) == "ValidationException", "501 records")
check(error_code(k.put_record, StreamName=stream, Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
      == "ValidationException", "record over 1 MiB")
check(error_code(k.put_record, StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128))
      == "InvalidArgumentException", "hash key out of range")
k.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=48)
check(k.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48,
      "retention")
k.add_tags_to_stream(StreamName=stream, Tags={"team": "sales"})
check(k.list_tags_for_stream(StreamName=stream)["Tags"] == [{"Key": "team", "Value": "sales"}], "tags")
print("boto3 kinesis ok")
