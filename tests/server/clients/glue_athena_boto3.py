"""The cloud set-up's usage section through boto3, unchanged but for the endpoint: upload the CSV
into raw_data/, start the crawler and wait on get_crawler, start my-etl-job and wait on
get_job_run until SUCCEEDED, then run SQL through Athena and page get_query_results to the end.

Usage: glue_athena_boto3.py ENDPOINT BUCKET CSV_FILE "SQL"
  (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
Prints the result as CSV on stdout: the header row first, NULL as \\N, one line per row, then a
last line "PAGES <n>" with the number of get_query_results pages. Exits 1 with "FAILED: ..." when a
step does not end as the set-up expects. Every wait is bounded (about 120 s).
"""
import os
import sys
import time

import boto3
import botocore.config

endpoint, bucket, csv_file, sql = sys.argv[1:5]
config = botocore.config.Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
session = boto3.session.Session(region_name="us-east-1")
s3 = session.client("s3", endpoint_url=endpoint, config=config)
glue = session.client("glue", endpoint_url=endpoint, config=config)
athena = session.client("athena", endpoint_url=endpoint, config=config)


def fail(what):
    print("FAILED:", what, file=sys.stderr)
    sys.exit(1)


def wait(poll, done, what):
    last = None
    for _ in range(600):
        last = poll()
        if done(last):
            return last
        time.sleep(0.2)
    fail("gave up waiting on %s: %r" % (what, last))


s3.upload_file(csv_file, bucket, "raw_data/" + os.path.basename(csv_file))

glue.start_crawler(Name="raw-crawler")
crawler = wait(lambda: glue.get_crawler(Name="raw-crawler")["Crawler"],
               lambda c: c["State"] == "READY" and "LastCrawl" in c, "get_crawler")
if crawler["LastCrawl"]["Status"] != "SUCCEEDED":
    fail("crawl: %r" % crawler["LastCrawl"])

run_id = glue.start_job_run(JobName="my-etl-job")["JobRunId"]
run = wait(lambda: glue.get_job_run(JobName="my-etl-job", RunId=run_id)["JobRun"],
           lambda r: r["JobRunState"] not in ("STARTING", "RUNNING", "WAITING"), "get_job_run")
if run["JobRunState"] != "SUCCEEDED":
    fail("job run: %r" % run)

qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": "sales"},
                                   WorkGroup="primary")["QueryExecutionId"]
execution = wait(lambda: athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"],
                 lambda q: q["Status"]["State"] not in ("QUEUED", "RUNNING"), "get_query_execution")
if execution["Status"]["State"] != "SUCCEEDED":
    fail("query: %r" % execution["Status"])

# Paged by hand, as scripts do, with small pages so that NextToken is exercised many times.
pages = 0
token = None
while True:
    kwargs = {"QueryExecutionId": qid, "MaxResults": 250}
    if token:
        kwargs["NextToken"] = token
    page = athena.get_query_results(**kwargs)
    pages += 1
    for row in page["ResultSet"]["Rows"]:
        print(",".join(d.get("VarCharValue", "\\N") for d in row["Data"]))
    token = page.get("NextToken")
    if not token:
        break
    if pages > 100000:
        fail("NextToken never ends")
print("PAGES %d" % pages)
