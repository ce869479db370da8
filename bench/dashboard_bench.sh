#!/usr/bin/env bash
# The web console's default dashboard ("Sales performance") served by a real `saleslake serve`
# on a generated lake: request -> all tiles' data cold (fresh server, empty result cache) and
# warm (cache), a refresh with no new data, a refresh after one new file is loaded by the job,
# DuckDB running the same tile SQL over the same Parquet files as the floor, and first paint /
# all tiles rendered in Debian's chromium (playwright-core).
# Usage: bench/dashboard_bench.sh [ROWS] [LAKE_DIR] [BUILD_DIR]
#   (defaults: 10000000 /tmp/dashboard-bench-lake build/release; the lake is built once and
#    reused; each run loads one more small file into it)
set -euo pipefail
ROWS=${1:-10000000}
LAKE=${2:-/tmp/dashboard-bench-lake}
BUILD=${3:-build/release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/$BUILD/saleslake"
PASSWORD=bench-Console-Pw-1
if [ ! -d "$LAKE/processed_data/sales_data" ]; then
  rm -rf "$LAKE"
  "$BIN" --lake "$LAKE" init >/dev/null
  "$BIN" --lake "$LAKE" generate --rows "$ROWS" --seed 42 --out "$LAKE.csv"
  "$BIN" --lake "$LAKE" upload "$LAKE.csv" >/dev/null
  rm -f "$LAKE.csv"
  "$BIN" --lake "$LAKE" crawl >/dev/null
  "$BIN" --lake "$LAKE" start-job --job-name my-etl-job >/dev/null
  "$BIN" --lake "$LAKE" iam create-login-profile --user-name admin --password "$PASSWORD" >/dev/null
fi
node "$ROOT/bench/dashboard_bench.mjs" "$LAKE" "$BIN" admin "$PASSWORD"
