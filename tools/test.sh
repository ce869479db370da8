#!/usr/bin/env bash
# Builds saleslake and runs every test: set-up, the include check (tools/check_includes.sh), a
# clang build with AddressSanitizer + UndefinedBehaviorSanitizer that runs the unit tests and a
# short libFuzzer run of every fuzz target, then a Release build and every test. CI (.ci/run)
# runs exactly this. Ends with ctest's summary line.
#   JOBS=N         parallel build jobs (default: cores)
#   FUZZ_SECONDS=N seconds per fuzz target (default 15; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
# ccache, when the machine has it, makes a rerun of an unchanged tree cheap (paths are hashed
# relative to the checkout, so clones share the cache). Not needed: without it nothing changes.
LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR=$PWD
  LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

echo "== include check (module layering, docs/modules.md)"
bash tools/check_includes.sh

echo "== sanitizer build (clang, ASan + UBSan, fuzz targets)"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSALESLAKE_SANITIZE=ON -DSALESLAKE_FUZZ=ON -DSALESLAKE_BENCH=OFF "${LAUNCHER[@]}" >/dev/null
cmake --build build/asan -j "$JOBS"
echo "== unit tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan -L unit --output-on-failure -j "$JOBS"
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  bash tools/fuzz.sh "$FUZZ_SECONDS"
fi

echo "== release build"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSALESLAKE_BENCH=ON "${LAUNCHER[@]}" >/dev/null
cmake --build build/release -j "$JOBS"
echo "== all tests (Release)"
ctest --test-dir build/release --output-on-failure -j "$JOBS"
