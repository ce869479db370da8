#!/usr/bin/env bash
# TPC-H at a generated scale factor on saleslake and DuckDB: generates the 8 tables once with
# `saleslake generate-tpch` (kept in DATA_DIR for later runs; regenerated when absent or
# incomplete), adds the 22 queries of the shared SF0.1 set (validation parameters; Q11's
# FRACTION scaled to 0.0001 / SF as the spec says), then runs bench/tpch_vs_duckdb.sh on it.
# Usage: bench/tpch_sf.sh SF [BUILD_DIR] [RUNS] [FILES]
#   (defaults: build/release, 3 runs, 1 file per table; DATA_DIR is $TPCH_DATA or
#   ${TMPDIR:-/tmp}/tpch-sf<SF>; SF1 takes ~0.3 GB, SF10 ~3 GB, twice that during the run
#   when the lake's copies cannot be hard links). Delete DATA_DIR when done.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SALESLAKE_SHARED_TESTDATA:-$ROOT/../shared/testdata}
SF=${1:?usage: bench/tpch_sf.sh SF [BUILD_DIR] [RUNS] [FILES]}
BUILD=${2:-build/release}
RUNS=${3:-3}
FILES=${4:-1}
BIN="$ROOT/$BUILD/saleslake"
[ -x "$BIN" ] || { echo "no $BIN (build the saleslake target)" >&2; exit 1; }
DATA=${TPCH_DATA:-${TMPDIR:-/tmp}/tpch-sf$SF}
if [ ! -f "$DATA/.complete" ] || [ "$(cat "$DATA/.complete")" != "$SF $FILES" ]; then
  rm -rf "$DATA"
  /usr/bin/time -f "generate-tpch: %e s wall, %U s user, %M KB peak" \
    "$BIN" generate-tpch --scale "$SF" --files "$FILES" --out "$DATA"
  mkdir -p "$DATA/queries"
  cp "$SHARED/tpch-sf0.1/queries/"q*.sql "$DATA/queries/"
  fraction=$(awk -v sf="$SF" 'BEGIN { printf "%.10f", 0.0001 / sf }')
  sed -i "s/0\.0001000000/$fraction/" "$DATA/queries/q11.sql"
  echo "$SF $FILES" >"$DATA/.complete"
fi
exec "$ROOT/bench/tpch_vs_duckdb.sh" "$DATA" "$BUILD" "$RUNS"
