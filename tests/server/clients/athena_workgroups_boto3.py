"""Athena workgroups and data scanned through boto3: GetWorkGroup's BytesScannedCutoffPerQuery,
DataScannedInBytes of queries reading all columns, one column and none, the same figure in
system.queries, a query past its workgroup's cutoff (CANCELLED with Athena's reason), and a
query past its workgroup's time limit (FAILED, "exceeded the time limit").
ALL_ID is the id of the all-columns query (its result file is athena_results/<id>.csv).

Usage: athena_workgroups_boto3.py ENDPOINT LIMITED_WORKGROUP
  (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
Prints "KEY value" lines (see the names below). Exits 1 with "FAILED: ..." when a step does not
end. Every wait is bounded (about 120 s).
"""
import sys
import time

import boto3
import botocore.config

endpoint, limited = sys.argv[1:3]
config = botocore.config.Config(retries={"max_attempts": 1})
athena = boto3.session.Session(region_name="us-east-1").client("athena", endpoint_url=endpoint, config=config)


def fail(what):
    print("FAILED:", what, file=sys.stderr)
    sys.exit(1)


def run(sql, workgroup="primary"):
    qid = athena.start_query_execution(QueryString=sql, WorkGroup=workgroup,
                                       QueryExecutionContext={"Database": "sales"})["QueryExecutionId"]
    for _ in range(600):
        q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if q["Status"]["State"] not in ("QUEUED", "RUNNING"):
            return qid, q
        time.sleep(0.2)
    fail("query %s did not end" % qid)


wg = athena.get_work_group(WorkGroup=limited)["WorkGroup"]
print("CUTOFF", wg["Configuration"].get("BytesScannedCutoffPerQuery", 0))
print("WORKGROUPS", ",".join(sorted(w["Name"] for w in athena.list_work_groups()["WorkGroups"])))

for name, sql in (("ALL", "SELECT * FROM sales_data"), ("ONE", "SELECT amount FROM sales_data"),
                  ("COUNT", "SELECT count(*) FROM sales_data")):
    qid, q = run(sql)
    print(name, q["Status"]["State"], q["Statistics"]["DataScannedInBytes"])
    if name == "ALL":
        all_id = qid
        print("ALL_ID", qid)

_, q = run("SELECT bytes_read FROM system.queries WHERE query_id = '%s'" % all_id)
rows = athena.get_query_results(QueryExecutionId=q["QueryExecutionId"])["ResultSet"]["Rows"]
print("HISTORY", rows[1]["Data"][0]["VarCharValue"])

_, q = run("SELECT * FROM sales_data", limited)
print("LIMITED", q["Status"]["State"], q["Status"].get("StateChangeReason", ""))
_, q = run("SELECT count(*) FROM sales_data", limited)
print("LIMITED_COUNT", q["Status"]["State"], q["Statistics"]["DataScannedInBytes"])
# 10^9 rows from VALUES: reads no lake bytes, and runs far longer than the limit.
digits = " CROSS JOIN ".join("(VALUES 0,1,2,3,4,5,6,7,8,9) d%d(x)" % i for i in range(9))
_, q = run("SELECT count(*) FROM " + digits, limited)
print("SLOW", q["Status"]["State"], q["Status"].get("StateChangeReason", ""))
