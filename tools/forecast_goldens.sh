#!/bin/sh
# Regenerates the forecasting goldens (tests/forecast/golden/r_*.csv) with R's forecast package.
# R is a dev tool only: CI and the product never need it. Installs Debian's r-base-core and
# r-cran-forecast when missing (needs root). Rebuilds tests/forecast/golden/series.csv first (needs
# $SALESLAKE_BIN, default build/release/saleslake, and ../shared/testdata).
# Usage: tools/forecast_goldens.sh [--no-tbats]
set -eu
cd "$(dirname "$0")/.."
if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'library(forecast)' >/dev/null 2>&1; then
  apt-get install -y r-base-core r-cran-forecast
fi
# The series: generated demand from our generator, UCI Online Retail from the shared CSV.
BIN="${SALESLAKE_BIN:-build/release/saleslake}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$BIN" generate --rows 200000 --seed 7 --out "$TMP/gen.csv"
GEN_CSV="$TMP/gen.csv" UCI_CSV="../shared/testdata/real/uci-online-retail/online_retail.csv" \
  Rscript tools/forecast_goldens.R tests/forecast/golden "$@"
