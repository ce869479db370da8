#!/usr/bin/env bash
# The main job, end to end on a fresh lake: set-up, Release build, generate seed-like sales data,
# upload it into raw_data/, then every later stage of the pipeline.
#   ROWS=N     rows to generate (default 1,000,000)
#   LAKE=DIR   the lake (default ./demo-lake; removed and re-created)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
JOBS=${JOBS:-$(nproc)}
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$JOBS" --target saleslake
SL=build/release/saleslake
ROWS=${ROWS:-1000000}
LAKE=${LAKE:-$PWD/demo-lake}
export SALESLAKE_LAKE=$LAKE

step() { echo; echo "== $*"; }
rm -rf "$LAKE"
step "saleslake init"
$SL init
step "saleslake generate --rows $ROWS --messy (seed-like CRM export)"
mkdir -p build/demo
$SL generate --rows "$ROWS" --messy --out build/demo/sales.csv
step "saleslake upload (lands in raw_data/, records object.created)"
$SL upload build/demo/sales.csv
