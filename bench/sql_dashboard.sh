#!/usr/bin/env bash
# Builds a lake with N generated sales rows as partitioned Parquet (sales_data, partitioned by
# region and purchase_month, written by the default ETL job my-etl-job: the lake's real table,
# customer_id tokenized) and runs the dashboard queries against DuckDB over the same files.
# Usage: bench/sql_dashboard.sh [ROWS] [LAKE_DIR] [BUILD_DIR]   (defaults: 10000000 /tmp/sql-bench-lake build/release)
set -euo pipefail
ROWS=${1:-10000000}
LAKE=${2:-/tmp/sql-bench-lake}
BUILD=${3:-build/release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/$BUILD/saleslake"
if [ ! -d "$LAKE/processed_data/sales_data" ]; then
  rm -rf "$LAKE"
  "$BIN" --lake "$LAKE" init >/dev/null
  "$BIN" --lake "$LAKE" generate --rows "$ROWS" --seed 42
  "$BIN" --lake "$LAKE" crawl >/dev/null
  "$BIN" --lake "$LAKE" start-job --job-name my-etl-job >/dev/null
fi
ninja -C "$ROOT/$BUILD" sql_dashboard_bench >/dev/null
node "$ROOT/bench/sql_dashboard.mjs" "$LAKE" "$ROOT/$BUILD" 3
