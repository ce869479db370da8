"""boto3 against a saleslake server whose file-size limit stands for a full disk: PutRecords
batches until records fail, then one PutRecord. Prints one JSON line: the data of every
acknowledged record, the error codes of the failed records and of the PutRecord, and its HTTP
status. The test checks it against what the log holds after a restart.

Usage: kinesis_full_disk.py ENDPOINT STREAM   (credentials from AWS_ACCESS_KEY_ID/SECRET env)
"""
import json
import sys

import boto3
import botocore.config
import botocore.exceptions

endpoint, stream = sys.argv[1], sys.argv[2]
k = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                 config=botocore.config.Config(retries={"max_attempts": 1}))
k.create_stream(StreamName=stream, ShardCount=1)
k.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1, "MaxAttempts": 5})

acked, failed_codes = [], []
for batch in range(400):  # 400 x 40 KB: far past the limit
    records = [{"Data": ("b%03d-r%02d-" % (batch, i)).encode() + b"x" * 800, "PartitionKey": "p"} for i in range(50)]
    out = k.put_records(StreamName=stream, Records=records)
    for r, res in zip(records, out["Records"]):
        if "SequenceNumber" in res:
            acked.append(r["Data"][:11].decode())
        else:
            failed_codes.append(res["ErrorCode"])
    if out["FailedRecordCount"]:
        break

single = {"status": 200, "code": ""}
try:
    k.put_record(StreamName=stream, Data=b"single-" + b"y" * 60000, PartitionKey="p")
except botocore.exceptions.ClientError as e:
    single = {"status": e.response["ResponseMetadata"]["HTTPStatusCode"], "code": e.response["Error"]["Code"]}
print(json.dumps({"acked": acked, "failed_codes": sorted(set(failed_codes)), "failed": len(failed_codes),
                  "single": single}))
