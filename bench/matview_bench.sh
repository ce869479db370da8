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
  "CREATE MATERIALIZED VIEW mv_customers_total AS SELECT count(DISTINCT customer_id) AS customers FROM sales_data"
)
# Best of 3 runs of one query in one process, as DuckDB's column is measured (--timing prints
# "(N rows, S.SSS s)" per statement: the statement's time, without the process start-up).
best() {
  local sql="$1"
  SL query --timing --format table "$sql; $sql; $sql" 2>&1 | grep -oE '[0-9]+\.[0-9]+ s\)$' | cut -d' ' -f1 |
    sort -n | head -1
}
# The same in a new process per run (catalog load and file listing included), best of 3.
cold() {
  local sql="$1"
  for _ in 1 2 3; do
    SL query --timing --format table "$sql" 2>&1 | grep -oE '[0-9]+\.[0-9]+ s\)$' | cut -d' ' -f1
  done | sort -n | head -1
}
# The statement time of one DDL statement in its own process (--timing prints "(S.SSS s)").
ddl() {
  SL query --timing "$1" 2>&1 | grep -oE '^\([0-9]+\.[0-9]+ s\)$' | tail -1 | tr -d '()s '
}
# Wall-clock seconds of one statement's process (DDL prints no timing; includes ~20 ms start-up).
once() {
  local t0 t1
  t0=$(date +%s.%N); SL query "$1" >/dev/null; t1=$(date +%s.%N)
  awk "BEGIN{printf \"%.3f\", $t1 - $t0}"
}

echo "== queries without views (s, best of 3 in one process)"
declare -a NOVIEW
for q in "${QUERIES[@]}"; do NOVIEW+=("$(best "$q")"); done
echo "== building the views"
for v in "${VIEWS[@]}"; do echo "  $(once "$v") s  ${v:0:60}..."; done
echo "== queries: no view | view (warm) | view (new process) | DuckDB over the base files, warm"
FILES="$LAKE/processed_data/sales_data/**/*.parquet"
FROM_FILES="FROM read_parquet('$FILES', hive_partitioning = true)"
for i in "${!QUERIES[@]}"; do
  q="${QUERIES[$i]}"
  with=$(best "$q")
  with_cold=$(cold "$q")
  used=$(SL query "EXPLAIN $q" | grep -c "answers the aggregation" || true)
  # The replacement goes through a variable: bash 5.2 removes the quotes of a literal one.
  dq=${q//FROM sales_data/$FROM_FILES}
  duck=$(node "$ROOT/bench/matview_duckdb.mjs" "$dq" 2>/dev/null || echo "n/a")
  # A view's answer under 0.5 ms prints as 0.000: the ratio is then a lower bound (">").
  printf '| %s | %s | %s | %s | %s | view used: %s | %sx vs DuckDB |\n' "${q:0:70}" "${NOVIEW[$i]}" "$with" "$with_cold" "$duck" "$used" \
    "$(awk "BEGIN{if (\"$duck\" == \"n/a\") print \"n/a\"; else if ($with == 0) printf \">%.1f\", $duck / 0.0005; else printf \"%.1f\", $duck / $with}")"
done
echo "== refresh after adding 1% new rows"
SL generate --rows $((ROWS / 100)) --seed 7 --out "$LAKE/more.csv" >/dev/null
SL upload "$LAKE/more.csv" >/dev/null
SL crawl >/dev/null
SL start-job --job-name my-etl-job >/dev/null
SL query "EXPLAIN REFRESH mv_daily" | head -3
# Per view: the incremental refresh, then a full one, each in its own process; statement time
# and the process's wall time (start-up, catalog load).
for v in mv_daily mv_product mv_customers mv_customers_total; do
  t0=$(date +%s.%N); inc=$(ddl "REFRESH MATERIALIZED VIEW $v"); t1=$(date +%s.%N)
  full=$(ddl "REFRESH MATERIALIZED VIEW $v FULL"); t2=$(date +%s.%N)
  awk -v v="$v" -v i="$inc" -v f="$full" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{
    printf "%s: incremental %.3f s, full %.3f s, ratio %.3f (process wall %.3f / %.3f s, ratio %.3f)\n",
      v, i, f, i / f, b - a, c - b, (b - a) / (c - b) }'
done
