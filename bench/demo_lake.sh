# Sourced by the benchmarks that read the demo's lake: demo_lake ROWS LAKE_DIR SALESLAKE_BIN
# builds it once (init, generate ROWS rows with seed 42, crawl, my-etl-job: sales_data as
# partitioned Parquet, customer_id tokenized) and leaves an existing one as it is.
demo_lake() {
  local rows=$1 lake=$2 bin=$3
  [ -d "$lake/processed_data/sales_data" ] && return 0
  rm -rf "$lake"
  "$bin" --lake "$lake" init >/dev/null
  "$bin" --lake "$lake" generate --rows "$rows" --seed 42
  "$bin" --lake "$lake" crawl >/dev/null
  "$bin" --lake "$lake" start-job --job-name my-etl-job >/dev/null
}
