#!/usr/bin/env bash
# ETL benchmark (issue 6): the generated sales CSV -> Hive-partitioned (region, purchase_month)
# ZSTD Parquet with the customer id tokenized, saleslake `start-job --job-name my-etl-job` versus
# DuckDB's COPY ... PARTITION_BY on the same file, in one run. Prints times, the ratio, peak
# memory (max RSS) and output sizes.
#   bench/etl_vs_duckdb.sh BUILD_DIR [ROWS]     (default 10,000,000 rows)
# saleslake's job does more than DuckDB's COPY (cleaning rules, quarantine, flags, PII scan of
# the other strings, quality report, catalog commit); DuckDB's side hashes with sha256 where
# saleslake uses keyed HMAC-SHA-256.
set -euo pipefail
BUILD=${1:?usage: bench/etl_vs_duckdb.sh BUILD_DIR [ROWS]}
ROWS=${2:-10000000}
here=$(cd "$(dirname "$0")/.." && pwd)
SL=$(cd "$BUILD" && pwd)/saleslake
work=${TMPDIR:-/tmp}/saleslake-etl-bench-$ROWS
mkdir -p "$work"
csv=$work/sales.csv
[ -f "$csv" ] || "$SL" generate --rows "$ROWS" --seed 42 --out "$csv" >/dev/null

rm -rf "$work/lake" "$work/duck"
export SALESLAKE_LAKE=$work/lake
"$SL" init >/dev/null
"$SL" upload "$csv" >/dev/null
"$SL" crawl >/dev/null
/usr/bin/time -f "%e %M" -o "$work/sl.time" "$SL" start-job --job-name my-etl-job --format json > "$work/sl.json"
read -r sl_s sl_kb < "$work/sl.time"
sl_bytes=$(du -sb "$work/lake/processed_data" | cut -f1)

cat > "$work/duck.sql" <<SQL
COPY (SELECT purchase_date, sha256(customer_id) AS customer_id, product_id, amount, region, status,
             strftime(purchase_date, '%Y-%m') AS purchase_month
      FROM read_csv('$csv'))
TO '$work/duck' (FORMAT parquet, PARTITION_BY (region, purchase_month), COMPRESSION zstd);
SQL
/usr/bin/time -f "%e %M" -o "$work/duck.time" node "$here/tools/peers/duckdb_query.mjs" < "$work/duck.sql" >/dev/null
read -r duck_s duck_kb < "$work/duck.time"
duck_bytes=$(du -sb "$work/duck" | cut -f1)

rows_loaded=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$work/sl.json','utf8')).rows_loaded)" 2>/dev/null || echo "?")
printf 'rows: %s (loaded by saleslake: %s)\n' "$ROWS" "$rows_loaded"
printf 'saleslake start-job: %6.2f s  peak RSS %5d MB  output %6.1f MB\n' "$sl_s" $((sl_kb / 1024)) "$(awk "BEGIN{print $sl_bytes/1e6}")"
printf 'DuckDB COPY:         %6.2f s  peak RSS %5d MB  output %6.1f MB\n' "$duck_s" $((duck_kb / 1024)) "$(awk "BEGIN{print $duck_bytes/1e6}")"
printf 'time ratio saleslake / DuckDB: %.2f\n' "$(awk "BEGIN{print $sl_s/$duck_s}")"
