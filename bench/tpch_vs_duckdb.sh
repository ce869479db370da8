#!/usr/bin/env bash
# The 22 TPC-H queries on saleslake and DuckDB over the same Parquet files, in one run: per query
# the best of RUNS times, the ratio saleslake / DuckDB, both peak RSS, and whether saleslake's rows
# equal DuckDB's (money to the cent); then the geometric mean of the ratios.
#   saleslake: cold, a new `saleslake query -f qNN.sql` process per run (catalog load included),
#              over a lake whose 8 tables are crawled from copies of the files; warm, the query
#              RUNS + 1 times in one process (the statement time it reports, best of the last RUNS);
#   DuckDB:    one node process per query, views over the files, the query RUNS times in it
#              (the best run, so metadata is cached: a warm figure); cold, the first run of a
#              new process from loading DuckDB's library to the result (best of RUNS processes;
#              node's own start-up not counted), the figure a new saleslake process compares with.
# Usage: bench/tpch_vs_duckdb.sh [DATA_DIR] [BUILD_DIR] [RUNS]
#   (defaults: $SALESLAKE_SHARED_TESTDATA/tpch-sf0.1 or ../shared/testdata/tpch-sf0.1, build/release, 3)
# DATA_DIR holds customer.parquet ... supplier.parquet (or directories customer/ ... of Parquet
# files) and queries/q01.sql ... q22.sql. bench/tpch_sf.sh generates such a directory at any
# scale factor and runs this script on it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SALESLAKE_SHARED_TESTDATA:-$ROOT/../shared/testdata}
DATA=$(cd "${1:-$SHARED/tpch-sf0.1}" && pwd)
BUILD=${2:-build/release}
RUNS=${3:-3}
# TPCH_ONLY="q01 q15" runs only those queries (the lake is still made for all 8 tables).
ONLY=${TPCH_ONLY:-}
# Extra `saleslake query` options for every run, e.g. TPCH_QUERY_ARGS="--memory-limit 6144
# --timeout 300" to keep a runaway query from taking a shared machine down.
read -r -a QARGS <<<"${TPCH_QUERY_ARGS:-}"
BIN="$ROOT/$BUILD/saleslake"
[ -x "$BIN" ] || { echo "no $BIN (build the saleslake target)" >&2; exit 1; }
WORK=${TMPDIR:-/tmp}/tpch-bench-$(basename "$DATA")
LAKE="$WORK/lake"
TABLES="customer lineitem nation orders part partsupp region supplier"
rm -rf "$WORK"
mkdir -p "$WORK/out"
"$BIN" --lake "$LAKE" init >/dev/null
{
  echo "version: 1"
  echo "crawlers:"
  for t in $TABLES; do
    mkdir -p "$LAKE/raw_data/$t"
    # A table is DATA/<t>.parquet or a directory DATA/<t>/ of files (generate-tpch --files N);
    # hard links where the file system allows (SF10 is GBs).
    if [ -d "$DATA/$t" ]; then src=("$DATA/$t"/*.parquet); else src=("$DATA/$t.parquet"); fi
    cp -l "${src[@]}" "$LAKE/raw_data/$t/" 2>/dev/null || cp "${src[@]}" "$LAKE/raw_data/$t/"
    echo "  - {name: $t, path: raw_data/$t/, table: $t, format: parquet}"
  done
} >"$LAKE/pipeline.yaml"
for t in $TABLES; do "$BIN" --lake "$LAKE" crawl --crawler "$t" >/dev/null; done

now() { date +%s%N; }
printf '%-4s %10s %10s %10s %10s %7s %7s %7s %8s %8s  %s\n' query cold warm duckdb "dk cold" cold/dk cold/dkc warm/dk \
  "peak MB" "duck MB" result
logsum=0
logcold=0
logwarm=0
n=0
for f in "$DATA"/queries/q*.sql; do
  q=$(basename "$f" .sql)
  if [ -n "$ONLY" ] && [[ " $ONLY " != *" $q "* ]]; then continue; fi
  best=""
  peak=0
  status=ok
  for _ in $(seq "$RUNS"); do
    t0=$(now)
    if ! /usr/bin/time -f %M -o "$WORK/out/$q.rss" "$BIN" --lake "$LAKE" query "${QARGS[@]}" -f "$f" --format csv \
        --output "$WORK/out/$q.ours.csv" 2>"$WORK/out/$q.err"; then
      status="error: $(head -c 120 "$WORK/out/$q.err")"
      break
    fi
    t1=$(now)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    best=$(awk -v a="$s" -v b="$best" 'BEGIN { print (b == "" || a < b) ? a : b }')
    rss=$(tail -1 "$WORK/out/$q.rss")
    [ "$rss" -gt "$peak" ] && peak=$rss
  done
  warm="-"
  if [ "$status" = ok ]; then
    for _ in $(seq $((RUNS + 1))); do sed -e '$a\' "$f"; echo ";"; done >"$WORK/out/$q.warm.sql"
    warm=$("$BIN" --lake "$LAKE" query "${QARGS[@]}" -f "$WORK/out/$q.warm.sql" --timing --max-rows 1 2>/dev/null |
      sed -n 's/^(.*, \([0-9.]*\) s)$/\1/p' | tail -n +2 | sort -g | head -1)
    [ -n "$warm" ] || warm="-"
  fi
  /usr/bin/time -f %M -o "$WORK/out/$q.duck.rss" node "$ROOT/bench/tpch_duckdb.mjs" run \
    "$DATA" "$f" "$RUNS" "$WORK/out/$q.duck.csv" >"$WORK/out/$q.duck.times"
  read -r duck duck_cold <"$WORK/out/$q.duck.times"
  duck_peak=$(tail -1 "$WORK/out/$q.duck.rss")
  for _ in $(seq $((RUNS - 1))); do
    read -r _ c < <(node "$ROOT/bench/tpch_duckdb.mjs" run "$DATA" "$f" 1 /dev/null)
    duck_cold=$(awk -v a="$c" -v b="$duck_cold" 'BEGIN { print (a < b) ? a : b }')
  done
  if [ "$status" = ok ]; then
    status=$(node "$ROOT/bench/tpch_duckdb.mjs" compare "$WORK/out/$q.ours.csv" "$WORK/out/$q.duck.csv")
    ratio=$(awk -v a="$best" -v b="$duck" 'BEGIN { printf "%.2f", a / b }')
    wratio=$(awk -v a="$warm" -v b="$duck" 'BEGIN { printf "%.2f", (a > 0 ? a : 0.001) / b }')
    cratio=$(awk -v a="$best" -v b="$duck_cold" 'BEGIN { printf "%.2f", a / b }')
    logsum=$(awk -v s="$logsum" -v r="$ratio" 'BEGIN { print s + log(r) }')
    logcold=$(awk -v s="$logcold" -v r="$cratio" 'BEGIN { print s + log(r) }')
    logwarm=$(awk -v s="$logwarm" -v r="$wratio" 'BEGIN { print s + log(r) }')
    n=$((n + 1))
  else
    best="-"
    ratio="-"
    cratio="-"
    wratio="-"
  fi
  printf '%-4s %10s %10s %10s %10s %7s %7s %7s %8d %8d  %s\n' "$q" "$best" "$warm" "$duck" "$duck_cold" "$ratio" \
    "$cratio" "$wratio" $((peak / 1024)) $((duck_peak / 1024)) "$status"
done
[ "$n" -gt 0 ] && awk -v s="$logsum" -v c="$logcold" -v w="$logwarm" -v n="$n" \
  'BEGIN { printf "geometric mean of %d ratios: cold/dk %.2f, cold/dk cold %.2f, warm %.2f\n", n, exp(s / n), exp(c / n), exp(w / n) }'

