#!/usr/bin/env bash
# A hash join whose build side is over the memory limit (issue 22), on saleslake and DuckDB over
# the same SF1 Parquet files: lineitem joined with itself on (l_orderkey, l_linenumber), the
# build carrying two strings per row (~6M rows, ~1.5 GB as saleslake counts a keyed build), run
# by bench/tpch_vs_duckdb.sh twice: without a limit, then with --memory-limit LIMIT_MB for
# saleslake (the join spills) and SET memory_limit for DuckDB. Rows must be equal in both runs.
# Usage: bench/join_spill.sh [BUILD_DIR] [LIMIT_MB] [RUNS]
#   (defaults: build/release, 1024, 1; the data is $TPCH_DATA or /tmp/tpch-sf1, made by
#   bench/tpch_sf.sh 1). Spill files go to $TMPDIR (or /tmp) and are removed by each query.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build/release}
LIMIT=${2:-1024}
RUNS=${3:-1}
SRC=${TPCH_DATA:-/tmp/tpch-sf1}
[ -f "$SRC/lineitem.parquet" ] || { echo "no $SRC/lineitem.parquet (run bench/tpch_sf.sh 1)" >&2; exit 1; }
DATA=${TMPDIR:-/tmp}/join-spill-data
rm -rf "$DATA"
mkdir -p "$DATA/queries"
for t in customer lineitem nation orders part partsupp region supplier; do
  ln "$SRC/$t.parquet" "$DATA/$t.parquet" 2>/dev/null || ln -s "$SRC/$t.parquet" "$DATA/$t.parquet"
done
cat >"$DATA/queries/qj1.sql" <<'SQL'
SELECT count(*) AS pairs, sum(length(b.l_comment)) AS comment_bytes,
       sum(length(b.l_shipinstruct)) AS instruct_bytes, sum(a.l_quantity) AS quantity
FROM lineitem a JOIN lineitem b ON a.l_orderkey = b.l_orderkey AND a.l_linenumber = b.l_linenumber
SQL
echo "== no memory limit (load: $(cut -d' ' -f1-3 /proc/loadavg))"
TPCH_QUERY_ARGS="${TPCH_QUERY_ARGS:-}" "$ROOT/bench/tpch_vs_duckdb.sh" "$DATA" "$BUILD" "$RUNS"
echo "== memory limit $LIMIT MB, saleslake and DuckDB (load: $(cut -d' ' -f1-3 /proc/loadavg))"
TPCH_QUERY_ARGS="${TPCH_QUERY_ARGS:-} --memory-limit $LIMIT" TPCH_DUCKDB_MEMORY_LIMIT="${LIMIT}MB" \
  "$ROOT/bench/tpch_vs_duckdb.sh" "$DATA" "$BUILD" "$RUNS"
rm -rf "$DATA"
