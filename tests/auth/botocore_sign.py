"""Signs a set of requests with botocore (Debian python3-boto3) and prints them as JSON.

Input on stdin: {"key": ..., "secret": ..., "endpoint": "http://127.0.0.1:8080"}.
Output: a list of {"name", "service", "method", "url", "headers": [[name, value]], "body"}.
The C++ test verifies each with saleslake's verifier: an independent SigV4 implementation.
"""
import json
import sys

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    cfg = json.load(sys.stdin)
    creds = Credentials(cfg["key"], cfg["secret"])
    ep = cfg["endpoint"]
    out = []

    def emit(name, service, signer, method, url, body=b"", headers=None):
        req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
        signer.add_auth(req)
        prepared = req.prepare()
        hdrs = [[k, v] for k, v in prepared.headers.items()]
        out.append({"name": name, "service": service, "method": method, "url": prepared.url,
                    "headers": hdrs, "body": body.decode("utf-8") if body else ""})

    s3 = S3SigV4Auth(creds, "s3", "us-east-1")
    emit("get-object", "s3", s3, "GET", ep + "/my-analytics-bucket/raw_data/sales.csv")
    emit("odd-key", "s3", S3SigV4Auth(creds, "s3", "us-east-1"), "GET",
         ep + "/my-analytics-bucket/raw_data/a%20b%2Bc~d%28%C3%A9%29%3D.csv")
    emit("put-object", "s3", S3SigV4Auth(creds, "s3", "us-east-1"), "PUT",
         ep + "/my-analytics-bucket/raw_data/new.csv", body=b"id,amount\n1,2.5\n",
         headers={"Content-Type": "text/csv", "x-amz-meta-owner": "  team   a  "})
    emit("list-v2", "s3", S3SigV4Auth(creds, "s3", "us-west-2"), "GET",
         ep + "/my-analytics-bucket?list-type=2&prefix=raw_data%2F&delimiter=%2F&continuation-token=a%2Bb%3D%3D&max-keys=10")
    emit("kinesis-json", "kinesis", SigV4Auth(creds, "kinesis", "us-east-1"), "POST", ep + "/",
         body=b'{"StreamName":"sales"}',
         headers={"X-Amz-Target": "Kinesis_20131202.DescribeStream",
                  "Content-Type": "application/x-amz-json-1.1"})
    emit("sns-query", "sns", SigV4Auth(creds, "sns", "us-east-1"), "POST", ep + "/",
         body=b"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Adq&Message=hi%20there",
         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})

    presign = S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=3600)
    req = AWSRequest(method="GET", url=ep + "/my-analytics-bucket/raw_data/sales.csv")
    presign.add_auth(req)
    prepared = req.prepare()
    out.append({"name": "presigned", "service": "s3", "method": "GET", "url": prepared.url,
                "headers": [[k, v] for k, v in prepared.headers.items()], "body": ""})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
