#!/bin/sh
# Regenerates the forecasting goldens (tests/forecast/golden/r_*.csv) with R's forecast package.
# R is a dev tool only: CI and the product never need it. Installs Debian's r-base-core and
# r-cran-forecast when missing (needs root). Usage: tools/forecast_goldens.sh [--no-tbats]
set -eu
cd "$(dirname "$0")/.."
if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'library(forecast)' >/dev/null 2>&1; then
  apt-get install -y r-base-core r-cran-forecast
fi
Rscript tools/forecast_goldens.R tests/forecast/golden "$@"
