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
. "$ROOT/bench/demo_lake.sh"
demo_lake "$ROWS" "$LAKE" "$BIN"
ninja -C "$ROOT/$BUILD" sql_dashboard_bench >/dev/null
node "$ROOT/bench/sql_dashboard.mjs" "$LAKE" "$ROOT/$BUILD" 3
