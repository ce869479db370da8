#!/usr/bin/env bash
# `saleslake serve` over a lake on S3 against `serve` over the same lake on local disk (issue 21):
# one generated CSV of ROWS rows goes through init, upload, crawl and my-etl-job into a local lake
# and into `--lake s3://my-analytics-bucket/lake` (held by a first `saleslake serve` of a local
# directory on loopback, IAM on). Then a second server serves the S3 lake (--state-dir) and a
# third the local lake, and the SQL dashboard suite (tests/sql/dashboard_suite.sql) runs through
# the Trino protocol on both (HTTP Basic with each lake's admin key, paged to the end by a small
# Python client; only the query's own requests are timed), best of REPEATS, alternating, with
# equal row counts required. Prints per query both times and their ratio, and the CPU seconds of
# the serving processes (utime+stime from /proc) over the whole suite.
# Usage: bench/serve_s3_lake.sh [ROWS] [BUILD_DIR] [WORK_DIR]
#   (defaults 1000000 build/rel /tmp/serve-s3-lake-bench; REPEATS=3)
set -euo pipefail
ROWS=${1:-1000000}
BUILD=${2:-build/rel}
WORK=${3:-/tmp/serve-s3-lake-bench}
REPEATS=${REPEATS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/saleslake"
SUITE="$ROOT/tests/sql/dashboard_suite.sql"
rm -rf "$WORK"
mkdir -p "$WORK"
# Servers are started in command substitutions (subshells): their pids are kept in files.
cleanup() { for f in "$WORK"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }  # utime+stime, 100 Hz ticks
echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(load); $ROWS rows; $("$BIN" --version)"

# serve LAKE ERRFILE [ARGS...]: starts a server on a free port; prints its port.
serve() {
  local lake=$1 err=$2
  shift 2
  "$BIN" --lake "$lake" serve --port 0 --access-log '' "$@" 2>"$err" </dev/null >/dev/null &
  echo $! >"$err.pid"
  for _ in $(seq 300); do grep -q serving "$err" && break; sleep 0.1; done
  sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$err"
}
cred() { sed -n "s/^$2 *= *//p" "$1" | head -1; }

"$BIN" generate --rows "$ROWS" --out "$WORK/sales.csv" >/dev/null
"$BIN" --lake "$WORK/bucket" init >/dev/null
BUCKET_PORT=$(serve "$WORK/bucket" "$WORK/bucket.err")
[ -n "$BUCKET_PORT" ] || { cat "$WORK/bucket.err"; exit 1; }
export AWS_SHARED_CREDENTIALS_FILE="$WORK/bucket/_system/admin-credentials" AWS_PROFILE=saleslake
export AWS_CONFIG_FILE=/dev/null AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$BUCKET_PORT"
export AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= AWS_ENDPOINT_URL_S3= SALESLAKE_PROGRESS=never
S3LAKE=s3://my-analytics-bucket/lake
for lake in "$WORK/local" "$S3LAKE"; do
  "$BIN" --lake "$lake" init >/dev/null
  "$BIN" --lake "$lake" upload "$WORK/sales.csv" >/dev/null
  "$BIN" --lake "$lake" crawl >/dev/null
  "$BIN" --lake "$lake" start-job --job-name my-etl-job >/dev/null
done
S3_PORT=$(serve "$S3LAKE" "$WORK/s3.err" --state-dir "$WORK/state")
LOCAL_PORT=$(serve "$WORK/local" "$WORK/local.err")
[ -n "$S3_PORT" ] && [ -n "$LOCAL_PORT" ] || { cat "$WORK/s3.err" "$WORK/local.err"; exit 1; }
S3_AUTH="$(cred "$WORK/bucket/lake/_system/admin-credentials" aws_access_key_id):$(cred "$WORK/bucket/lake/_system/admin-credentials" aws_secret_access_key)"
LOCAL_AUTH="$(cred "$WORK/local/_system/admin-credentials" aws_access_key_id):$(cred "$WORK/local/_system/admin-credentials" aws_secret_access_key)"

# trino PORT USER:SECRET SQL -> "<ms> <rows>" (the POST and every nextUri page, timed inside).
cat >"$WORK/trino.py" <<'EOF'
import base64, json, sys, time, urllib.request
port, auth, sql = sys.argv[1], sys.argv[2], sys.argv[3]
h = {"X-Trino-User": "bench", "Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}
t0 = time.monotonic()
page = json.load(urllib.request.urlopen(urllib.request.Request(
    f"http://127.0.0.1:{port}/v1/statement", data=sql.encode(), headers=h)))
rows = 0
while True:
    if "error" in page:
        sys.exit("query failed: " + json.dumps(page["error"])[:300])
    rows += len(page.get("data", []))
    if "nextUri" not in page:
        break
    page = json.load(urllib.request.urlopen(urllib.request.Request(page["nextUri"], headers=h)))
print(f"{(time.monotonic() - t0) * 1000:.1f} {rows}")
EOF

echo "## the dashboard suite through the Trino protocol: serve over local disk vs over S3, best of $REPEATS"
printf '| q | rows | local ms | S3 ms | ratio |\n|---|---:|---:|---:|---:|\n'
S3_PID=$(cat "$WORK/s3.err.pid")
LOCAL_PID=$(cat "$WORK/local.err.pid")
cpu_s3_0=$(cpu "$S3_PID")
cpu_local_0=$(cpu "$LOCAL_PID")
n=0
sum_l=0
sum_s=0
while IFS= read -r sql; do
  [ -n "$sql" ] || continue
  n=$((n + 1))
  best_l=999999
  best_s=999999
  for _ in $(seq "$REPEATS"); do
    read -r tl rl < <(python3 "$WORK/trino.py" "$LOCAL_PORT" "$LOCAL_AUTH" "$sql")
    read -r ts rs < <(python3 "$WORK/trino.py" "$S3_PORT" "$S3_AUTH" "$sql")
    [ "$rl" = "$rs" ] || { echo "q$n: $rl rows locally, $rs over S3"; exit 1; }
    best_l=$(awk -v a="$best_l" -v b="$tl" 'BEGIN{print (b < a ? b : a)}')
    best_s=$(awk -v a="$best_s" -v b="$ts" 'BEGIN{print (b < a ? b : a)}')
  done
  sum_l=$(awk -v a="$sum_l" -v b="$best_l" 'BEGIN{print a + b}')
  sum_s=$(awk -v a="$sum_s" -v b="$best_s" 'BEGIN{print a + b}')
  awk -v q="$n" -v r="$rl" -v l="$best_l" -v s="$best_s" 'BEGIN{printf "| q%d | %d | %.1f | %.1f | %.2f |\n", q, r, l, s, s / l}'
done <"$SUITE"
awk -v l="$sum_l" -v s="$sum_s" 'BEGIN{printf "| all | | %.0f | %.0f | %.2f |\n", l, s, s / l}'
echo "# server CPU seconds over the suite (all repeats): local $(awk -v a="$cpu_local_0" -v b="$(cpu "$LOCAL_PID")" 'BEGIN{printf "%.2f", b - a}'), S3 $(awk -v a="$cpu_s3_0" -v b="$(cpu "$S3_PID")" 'BEGIN{printf "%.2f", b - a}') (+ the bucket's server $(cpu "$(cat "$WORK/bucket.err.pid")") in total)"
echo "# load average $(load)"
