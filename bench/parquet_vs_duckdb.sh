#!/bin/sh
# Parquet write + full read: saleslake vs DuckDB on the same N-row sales table (default 10M).
# Usage: bench/parquet_vs_duckdb.sh BUILD_DIR [ROWS]
set -e
BUILD=${1:?usage: $0 BUILD_DIR [ROWS]}
ROWS=${2:-10000000}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=${TMPDIR:-/tmp}
DUCK=$(node "$HERE/parquet_duckdb.mjs" "$ROWS" "$TMP")
SRC=$(echo "$DUCK" | sed 's/.*"src":"\([^"]*\)".*/\1/')
OURS=$("$BUILD/bench/parquet_rw_bench" "$SRC" "$TMP/parquet_bench_saleslake_$ROWS.parquet")
echo "duckdb:    $DUCK"
echo "saleslake: $OURS"
node -e '
const d = JSON.parse(process.argv[1]), s = JSON.parse(process.argv[2]);
console.log(`write ratio (saleslake/duckdb) ${(s.write_s / d.write_s).toFixed(2)}, ` +
            `read ratio ${(s.read_s / d.read_s).toFixed(2)}, size ratio ${(s.bytes / d.bytes).toFixed(3)}`);
' "$DUCK" "$OURS"
