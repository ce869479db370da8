#!/usr/bin/env bash
# count(*) + sum(amount) over the generated sales CSV: saleslake's reader vs DuckDB read_csv,
# one after the other on the same file, printed as a ratio (saleslake / DuckDB; < 1 = faster).
# Both sides include sniffing the file; both get every core (DUCKDB_THREADS / SALESLAKE_THREADS
# pin them); each side reports its best of 3 runs with the file in the page cache.
#
# Usage: bench/csv_vs_duckdb.sh [BUILD_DIR] [ROWS]
#   BUILD_DIR  a Release build with saleslake and bench/csv_read_bench (default build/release)
#   ROWS       rows to generate (default 10000000); the file is kept in $TMPDIR for re-runs
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build/release}"
rows="${2:-10000000}"
file="${TMPDIR:-/tmp}/saleslake_sales_${rows}.csv"

if [[ ! -s "$file" ]]; then
  echo "generating $rows rows into $file ..." >&2
  "$build/saleslake" generate --rows "$rows" --out "$file" --lake "${TMPDIR:-/tmp}/saleslake_bench_lake" >&2
fi
cat "$file" > /dev/null  # warm the page cache for both sides

ours_json="$(SALESLAKE_BENCH_CSV="$file" "$build/bench/csv_read_bench" \
  --benchmark_filter='BM_CsvCountSumAmount' --benchmark_format=json 2>/dev/null)"
duck="$(node "$here/csv_duckdb.mjs" "$file" 3)"

node -e '
const ours = JSON.parse(process.argv[1]).benchmarks[0];
const duck = process.argv[2].split(/\s+/);
const oursS = ours.real_time / 1000;  // ms -> s
const duckS = Number(duck[1]);
console.log(`file        ${process.argv[3]}`);
console.log(`saleslake   ${oursS.toFixed(3)} s  rows ${ours.rows}  sum(amount) ${ours.sum_amount.toFixed(2)}`);
console.log(`duckdb      ${duckS.toFixed(3)} s  rows ${duck[3]}  sum(amount) ${duck[5]}`);
console.log(`ratio       ${(oursS / duckS).toFixed(2)}  (saleslake / duckdb; target <= 1.0)`);
' "$ours_json" "$duck" "$file"
