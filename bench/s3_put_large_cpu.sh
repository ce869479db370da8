#!/usr/bin/env bash
# The lean client's large phase (bench/s3_load.mjs: LARGE_MB up by multipart, 8 MB parts, 4 in
# flight, then down) against `saleslake serve` alone, with IAM as in bench/s3_vs_s3rver.sh, and
# the server's own CPU time (/proc utime+stime, user and system apart) over the whole run: the
# figure to compare builds by on a busy machine. PERF_OUT=FILE records the server with
# `perf record $PERF_ARGS` instead. A handful of small objects go first (SMALL_OPS, default 64).
# Usage: bench/s3_put_large_cpu.sh [BUILD_DIR]   (LARGE_MB, default 1024)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/release}/saleslake
. "$here/serve_bench.sh"
serve_bench "$bin" s3putcpu
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "user %.2f s system %.2f s", $14 / hz, $15 / hz}' "/proc/$spid/stat"; }
if [ -n "${PERF_OUT:-}" ]; then
  perf record ${PERF_ARGS:-} -p "$spid" -o "$PERF_OUT" 2>/dev/null &
  perf_pid=$!
fi
echo "load before: $(uptime)"
echo "server CPU before: $(cpu)"
SMALL_OPS=${SMALL_OPS:-64} LARGE_MB=${LARGE_MB:-1024} node "$here/s3_load.mjs" "http://127.0.0.1:$port" my-analytics-bucket saleslake
echo "server CPU after: $(cpu)"
[ -n "${perf_pid:-}" ] && kill -INT "$perf_pid" && wait "$perf_pid" || true
echo "load after: $(uptime)"
