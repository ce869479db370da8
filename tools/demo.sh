#!/usr/bin/env bash
# The main job, end to end on a fresh lake: set-up, Release build, generate seed-like sales data,
# upload it into raw_data/, then every later stage of the pipeline.
#   ROWS=N     rows to generate (default 1,000,000)
#   LAKE=DIR   the lake (default ./demo-lake; removed and re-created)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
JOBS=${JOBS:-$(nproc)}
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$JOBS" --target saleslake
SL=build/release/saleslake
ROWS=${ROWS:-1000000}
LAKE=${LAKE:-$PWD/demo-lake}
export SALESLAKE_LAKE=$LAKE

step() { echo; echo "== $*"; }
rm -rf "$LAKE"
step "saleslake init"
$SL init
step "saleslake generate --rows $ROWS --messy (seed-like CRM export)"
mkdir -p build/demo
$SL generate --rows "$ROWS" --messy --out build/demo/sales.csv
step "saleslake upload (lands in raw_data/, records object.created)"
$SL upload build/demo/sales.csv
step "saleslake crawl (raw_data/ -> table raw_sales)"
$SL crawl
$SL describe raw_sales
step "saleslake start-job --job-name my-etl-job (clean, redact PII, partition, ZSTD Parquet)"
$SL start-job --job-name my-etl-job
step "saleslake start-job again: nothing new, a no-op"
$SL start-job --job-name my-etl-job
$SL runs
step "queries over sales_data"
$SL query "SELECT count(*) AS orders, round(sum(amount), 2) AS revenue FROM sales_data WHERE purchase_date >= DATE '2025-08-01'"
$SL query "SELECT region, count(*) AS orders, round(sum(amount), 2) AS revenue, count(DISTINCT customer_id) AS customers FROM sales_data WHERE status <> 'OUT' GROUP BY region ORDER BY revenue DESC"
$SL query "SELECT purchase_month, round(sum(amount), 2) AS revenue, round(100.0 * count_if(status = 'REFUNDED') / count(*), 2) AS refund_pct FROM sales_data GROUP BY 1 ORDER BY 1"
$SL query "SELECT * FROM sales_data WHERE purchase_date >= DATE '2025-08-01' ORDER BY amount DESC LIMIT 5"
step "the web console: dashboard \"Sales performance\" over sales_data"
# A console password for the admin user (random, shown once; the IAM store keeps only a hash).
PASSWORD=${PASSWORD:-$(openssl rand -base64 18 | tr -d '/+=' | cut -c1-20)}
$SL iam delete-login-profile --user-name admin >/dev/null 2>&1 || true
$SL iam create-login-profile --user-name admin --password "$PASSWORD" >/dev/null
PORT=${PORT:-8080}
echo "demo done: the lake is in $LAKE (try: $SL --lake $LAKE query \"SHOW TABLES\")"
echo
echo "  dashboard: http://127.0.0.1:$PORT/console/#/d/sales-performance"
echo "  sign in:   user admin, password $PASSWORD"
echo "  (or the admin access key in $LAKE/_system/admin-credentials); Ctrl-C stops the server"
echo
[ "${SERVE:-1}" = 0 ] && exit 0
exec $SL serve --port "$PORT" --access-log ''
