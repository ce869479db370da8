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
work=$(mktemp -d "${TMPDIR:-/tmp}/s3getcpu.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
"$bin" --lake "$work/lake" init >/dev/null
"$bin" --lake "$work/lake" iam create-user --user-name bench >/dev/null
"$bin" --lake "$work/lake" iam put-user-policy --user-name bench --policy-name all --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' >/dev/null
key=$("$bin" --lake "$work/lake" iam create-access-key --user-name bench)
export AWS_ACCESS_KEY_ID=$(node -e 'console.log(JSON.parse(process.argv[1]).AccessKey.AccessKeyId)' "$key")
export AWS_SECRET_ACCESS_KEY=$(node -e 'console.log(JSON.parse(process.argv[1]).AccessKey.SecretAccessKey)' "$key")
"$bin" --lake "$work/lake" serve --port 0 --access-log '' ${SERVE_ARGS:-} 2>"$work/serve.err" &
spid=$!
pids+=($spid)
for _ in $(seq 100); do grep -q serving "$work/serve.err" && break; sleep 0.1; done
port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.err")
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
