#!/bin/sh
# Forecast throughput: 5,000 synthetic daily product series x 237 days, horizon 28, --model auto,
# end to end through the CLI (CSV read + series building + forecasts + CSV output), beside R's
# forecast::ets() on the same series (single-threaded; R_SERIES of them, extrapolated).
# Usage: bench/forecast_throughput.sh BUILD_DIR [R_SERIES=200]   (needs node; R optional; /tmp)
set -eu
BIN="${1:-build/release}/saleslake"
R_SERIES="${2:-200}"
DIR="$(dirname "$0")"
CSV=/tmp/forecast_p5000.csv
node "$DIR/forecast_series.mjs" "$CSV" 5000 237
echo "== $(date -u +%Y-%m-%dT%H:%MZ)  commit $(git -C "$DIR" rev-parse --short HEAD)  $(nproc) cores  load:$(uptime | sed 's/.*load average://')"
for model in auto ets; do
  t0=$(date +%s.%N)
  "$BIN" forecast --input "$CSV" --date date --value units --by product --horizon 28 --format csv \
    --model "$model" --output /tmp/forecast_p5000_out.csv
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v m="$model" \
    'BEGIN { s = b - a; printf "saleslake %s: 5000 series in %.2f s = %.0f series/s\n", m, s, 5000 / s }'
done
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(forecast)' >/dev/null 2>&1; then
  Rscript "$DIR/forecast_r_ets.R" "$CSV" "$R_SERIES"
else
  echo "R ets: skipped (Rscript with the forecast package not installed)"
fi
echo "load after: $(uptime | sed 's/.*load average://')"
