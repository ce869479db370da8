"""Puts sales records into a stream with boto3 (PutRecords, batches of 100) and writes the ones
the server acknowledged: JSON objects to VALID (one per line), the others to INVALID.

Usage: kinesis_metrics_boto3.py ENDPOINT STREAM SEED COUNT VALID INVALID
(credentials from AWS_ACCESS_KEY_ID/SECRET env). Exits 0 when every batch was answered.
"""
import json
import random
import sys

import boto3
import botocore.config

endpoint, stream, seed, count, valid_path, invalid_path = sys.argv[1:7]
k = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                 config=botocore.config.Config(retries={"max_attempts": 1}))
rng = random.Random(int(seed))
regions = ["North America", "Western Europe", "Asia Pacific", "Latin America", "Eastern Europe",
           "Middle East", "Africa", "Oceania"]
statuses = ["COMPLETED"] * 18 + ["REFUNDED", "PENDING", "OUT", " refunded "]


def record(i):
    if rng.random() < 0.03:
        return ("not json %d" % i).encode(), False
    amount = None if rng.random() < 0.05 else round(rng.uniform(1.5, 400.0), 2)
    r = {"purchase_date": "2025-08-%02d" % rng.randint(1, 25), "customer_id": "CUST-%d" % rng.randint(1, 500),
         "product_id": "SKU-%05d" % rng.randint(1, 999), "amount": amount, "region": rng.choice(regions),
         "status": rng.choice(statuses)}
    return json.dumps(r).encode(), True


with open(valid_path, "a") as valid, open(invalid_path, "a") as invalid:
    n = int(count)
    for start in range(0, n, 100):
        batch = [record(i) for i in range(start, min(n, start + 100))]
        out = k.put_records(StreamName=stream, Records=[{"Data": d, "PartitionKey": "pk-%d" % j}
                                                        for j, (d, _) in enumerate(batch)])
        for (data, ok), res in zip(batch, out["Records"]):
            if "ErrorCode" in res:
                continue
            (valid if ok else invalid).write(data.decode() + "\n")
