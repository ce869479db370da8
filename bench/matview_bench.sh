#!/usr/bin/env bash
# Materialized views (issue 14) on the generated lake: build time of the dashboards' views,
# refresh after adding ~1% new data (incremental vs REFRESH ... FULL), and the dashboard queries
# with the views (rewrite) vs without vs DuckDB over the base Parquet files.
# Usage: bench/matview_bench.sh [ROWS] [LAKE_DIR] [BUILD_DIR]   (defaults: 10000000 /tmp/matview-bench-lake build/release)
set -euo pipefail
ROWS=${1:-10000000}
LAKE=${2:-/tmp/matview-bench-lake}
BUILD=${3:-build/release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/$BUILD/saleslake"
SL() { "$BIN" --lake "$LAKE" "$@"; }
rm -rf "$LAKE"
SL init >/dev/null
SL generate --rows "$ROWS" --seed 42 >/dev/null
SL crawl >/dev/null
SL start-job --job-name my-etl-job >/dev/null

QUERIES=(
  "SELECT region, sum(amount) AS revenue FROM sales_data GROUP BY region ORDER BY region"
  "SELECT purchase_month, sum(amount) AS revenue, count(*) AS orders FROM sales_data GROUP BY purchase_month ORDER BY 1"
  "SELECT purchase_date, sum(amount) AS revenue FROM sales_data GROUP BY purchase_date ORDER BY 1"
  "SELECT status, count(*) AS n FROM sales_data GROUP BY status ORDER BY 1"
  "SELECT region, avg(amount) AS avg_order FROM sales_data WHERE purchase_month >= '2025-06' GROUP BY region ORDER BY 1"
  "SELECT product_id, sum(amount) AS revenue FROM sales_data GROUP BY product_id ORDER BY 2 DESC LIMIT 10"
  "SELECT count(DISTINCT customer_id) AS customers FROM sales_data"
  "SELECT region, count(DISTINCT customer_id) AS customers FROM sales_data GROUP BY region ORDER BY 1"
  "SELECT region, approx_distinct(customer_id) AS customers FROM sales_data GROUP BY region ORDER BY 1"
)
VIEWS=(
  "CREATE MATERIALIZED VIEW mv_daily WITH (partitioned_by = ARRAY['region']) AS SELECT region, purchase_month, purchase_date, status, count(*) AS orders, count(amount) AS n_amount, sum(amount) AS revenue FROM sales_data GROUP BY region, purchase_month, purchase_date, status"
  "CREATE MATERIALIZED VIEW mv_product AS SELECT product_id, sum(amount) AS revenue, count(*) AS orders FROM sales_data GROUP BY product_id"
  "CREATE MATERIALIZED VIEW mv_customers AS SELECT region, purchase_month, count(DISTINCT customer_id) AS customers, approx_distinct(customer_id) AS approx_customers FROM sales_data GROUP BY region, purchase_month"
)
# Best of 3 runs of one statement (--timing prints "(N rows, S.SSS s)"; DDL prints "S.SSS s").
best() {
  local sql="$1" best=""
  for _ in 1 2 3; do
    t=$(SL query --timing --format table "$sql" 2>&1 | grep -oE '[0-9]+\.[0-9]+ s\)?$' | tail -1 | cut -d' ' -f1)
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
  done
  echo "$best"
}
# Wall-clock seconds of one statement's process (DDL prints no timing; includes ~20 ms start-up).
once() {
  local t0 t1
  t0=$(date +%s.%N); SL query "$1" >/dev/null; t1=$(date +%s.%N)
  awk "BEGIN{printf \"%.3f\", $t1 - $t0}"
}

echo "== queries without views (s, best of 3)"
declare -a NOVIEW
for q in "${QUERIES[@]}"; do NOVIEW+=("$(best "$q")"); done
echo "== building the views"
for v in "${VIEWS[@]}"; do echo "  $(once "$v") s  ${v:0:60}..."; done
echo "== queries with views, DuckDB over the base files"
FILES="$LAKE/processed_data/sales_data/**/*.parquet"
FROM_FILES="FROM read_parquet('$FILES', hive_partitioning = true)"
for i in "${!QUERIES[@]}"; do
  q="${QUERIES[$i]}"
  with=$(best "$q")
  used=$(SL query "EXPLAIN $q" | grep -c "answers the aggregation" || true)
  # The replacement goes through a variable: bash 5.2 removes the quotes of a literal one.
  dq=${q//FROM sales_data/$FROM_FILES}
  duck=$(node "$ROOT/bench/matview_duckdb.mjs" "$dq" 2>/dev/null || echo "n/a")
  printf '| %s | %s | %s | %s | view used: %s | %sx vs DuckDB |\n' "${q:0:70}" "${NOVIEW[$i]}" "$with" "$duck" "$used" \
    "$(awk "BEGIN{if (\"$duck\" == \"n/a\") print \"n/a\"; else printf \"%.1f\", $duck / $with}")"
done
echo "== refresh after adding 1% new rows"
SL generate --rows $((ROWS / 100)) --seed 7 --out "$LAKE/more.csv" >/dev/null
SL upload "$LAKE/more.csv" >/dev/null
SL crawl >/dev/null
SL start-job --job-name my-etl-job >/dev/null
SL query "EXPLAIN REFRESH mv_daily" | head -3
inc=$(once "REFRESH MATERIALIZED VIEW mv_daily")
full=$(once "REFRESH MATERIALIZED VIEW mv_daily FULL")
echo "incremental ${inc} s, full ${full} s, ratio $(awk "BEGIN{printf \"%.3f\", $inc / $full}")"
# count(DISTINCT) through its side table, approx_distinct through sketches, after the same 1%.
inc=$(once "REFRESH MATERIALIZED VIEW mv_customers")
full=$(once "REFRESH MATERIALIZED VIEW mv_customers FULL")
echo "mv_customers: incremental ${inc} s, full ${full} s, ratio $(awk "BEGIN{printf \"%.3f\", $inc / $full}")"
