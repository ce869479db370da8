#!/usr/bin/env bash
# The lean small-object phases of bench/s3_vs_s3rver.sh against `saleslake serve` alone (with IAM,
# as there), plus the server's own CPU time (/proc utime+stime) over the GET phase alone: the
# figure to compare builds by on a busy machine, where ops/s are noise. Run it for two builds one
# right after the other. With PERF_OUT=FILE, `perf record $PERF_ARGS` of the server covers the
# GET phase instead. SERVE_ARGS adds options to `serve` (e.g. "--io-threads 2").
# Usage: bench/s3_get_cpu.sh [BUILD_DIR]   (SMALL_OPS, CONCURRENCY as in bench/s3_load.mjs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/release}/saleslake
. "$here/serve_bench.sh"
serve_bench "$bin" s3getcpu
ticks() { awk '{print $14 + $15}' "/proc/$spid/stat"; }
echo "load before: $(uptime)"
LARGE_MB=0 PAUSE_BEFORE_GET=1 node "$here/s3_load.mjs" "http://127.0.0.1:$port" my-analytics-bucket saleslake |
  while read -r line; do
    echo "$line"
    case "$line" in
      *"get4k starts"*)
        ticks >"$work/t0"
        if [ -n "${PERF_OUT:-}" ]; then
          perf record ${PERF_ARGS:-} -p "$spid" -o "$PERF_OUT" 2>/dev/null &
          echo $! >"$work/perf.pid"
        fi ;;
      *"lean_get4k"*)
        [ -f "$work/perf.pid" ] && kill -INT "$(cat "$work/perf.pid")"
        t=$(( $(ticks) - $(cat "$work/t0") ))
        echo "GET phase: server CPU $(awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }') s" ;;
    esac
  done
sleep 1
echo "load after: $(uptime)"
