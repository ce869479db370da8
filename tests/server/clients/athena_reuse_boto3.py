"""Athena's query result reuse through boto3 (ResultReuseConfiguration on StartQueryExecution):
which runs of one SELECT are answered by an earlier result, for whom, for how long (the server's
test clock, moved by rewriting CLOCK_FILE), and that a commit ends it.

Usage: athena_reuse_boto3.py ENDPOINT CLOCK_FILE ANALYST_KEY_ID ANALYST_SECRET
  (the admin's credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; the analyst may not
  read PII)
Prints one line per step: NAME|STATE|REUSED|DATA_SCANNED|ROWS (ROWS as compact JSON, the header
row left out, NULL as null; "-" for statements without rows), then ECHO_* lines with the
ResultReuseConfiguration GetQueryExecution echoes, SAME_LOCATION (a reused result's
OutputLocation is its source's) and BAD (the error code of an out-of-range MaxAgeInMinutes).
Exits 1 with "FAILED: ..." when a query does not end. Every wait is bounded (about 120 s).
"""
import json
import os
import sys
import time

import boto3
import botocore.config
import botocore.exceptions

endpoint, clock_file, analyst_id, analyst_secret = sys.argv[1:5]
config = botocore.config.Config(retries={"max_attempts": 1})
admin = boto3.session.Session(region_name="us-east-1").client("athena", endpoint_url=endpoint, config=config)
analyst = boto3.session.Session(aws_access_key_id=analyst_id, aws_secret_access_key=analyst_secret,
                                region_name="us-east-1").client("athena", endpoint_url=endpoint, config=config)
# customer_id named once: the analyst (no saleslake:ReadPii) may not name it more often than the
# result has it.
SQL = "SELECT customer_id, amount FROM reuse_t ORDER BY amount"


def fail(what):
    print("FAILED:", what, file=sys.stderr)
    sys.exit(1)


def start(client, sql, reuse):
    kwargs = {}
    if reuse is not None:
        kwargs["ResultReuseConfiguration"] = {"ResultReuseByAgeConfiguration": reuse}
    return client.start_query_execution(QueryString=sql, WorkGroup="primary",
                                        QueryExecutionContext={"Database": "sales"}, **kwargs)["QueryExecutionId"]


def wait(client, qid):
    for _ in range(600):
        q = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if q["Status"]["State"] not in ("QUEUED", "RUNNING"):
            return q
        time.sleep(0.2)
    fail("query %s did not end" % qid)


def rows(client, qid):
    """Every row after the header, paged two at a time through NextToken."""
    out, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = client.get_query_results(QueryExecutionId=qid, MaxResults=2, **kwargs)
        out += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        token = page.get("NextToken")
        if not token:
            return out[1:]


def step(name, client, sql, reuse, with_rows=True):
    qid = start(client, sql, reuse)
    q = wait(client, qid)
    stats = q["Statistics"]
    shown = json.dumps(rows(client, qid), separators=(",", ":")) if with_rows else "-"
    print("|".join([name, q["Status"]["State"], str(stats["ResultReuseInformation"]["ReusedPreviousResult"]),
                    str(stats["DataScannedInBytes"]), shown]))
    return q


def move_clock(ms):
    with open(clock_file) as f:
        now = int(f.read().strip())
    with open(clock_file + ".tmp", "w") as f:
        f.write(str(now + ms))
    # Renamed into place: the server never reads a half-written time.
    os.replace(clock_file + ".tmp", clock_file)


hour = {"Enabled": True, "MaxAgeInMinutes": 60}
minute = {"Enabled": True, "MaxAgeInMinutes": 1}
step("CTAS", admin, "CREATE TABLE reuse_t AS SELECT * FROM (VALUES ('c1', 10.0), ('c2', 20.0)) t(customer_id, amount)",
     hour, with_rows=False)
first = step("FIRST", admin, SQL, None)
print("ECHO_NONE", json.dumps(first.get("ResultReuseConfiguration"), sort_keys=True))
second = step("SECOND", admin, SQL, minute)
print("ECHO_MINUTE", json.dumps(second.get("ResultReuseConfiguration"), sort_keys=True))
print("SAME_LOCATION", second["ResultConfiguration"]["OutputLocation"] == first["ResultConfiguration"]["OutputLocation"])
step("DISABLED", admin, SQL, {"Enabled": False})
# Another principal, without saleslake:ReadPii: never the admin's rows; then its own.
step("ANALYST", analyst, SQL, hour)
step("ANALYST_AGAIN", analyst, SQL, hour)
# Two minutes later by the server's clock: older than one minute, younger than an hour.
move_clock(120000)
step("LATE_MINUTE", admin, SQL, minute)
step("LATE_HOUR", admin, SQL, hour)
# Statements other than SELECT always run; after the INSERTs' commits the old result is stale.
step("INSERT1", admin, "INSERT INTO reuse_t VALUES ('c3', 30.0)", hour, with_rows=False)
step("INSERT2", admin, "INSERT INTO reuse_t VALUES ('c3', 30.0)", hour, with_rows=False)
step("AFTER", admin, SQL, hour)
try:
    start(admin, SQL, {"Enabled": True, "MaxAgeInMinutes": 10081})
    print("BAD accepted")
except botocore.exceptions.ClientError as e:
    print("BAD", e.response["Error"]["Code"])
