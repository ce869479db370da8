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
work=$(mktemp -d "${TMPDIR:-/tmp}/s3putcpu.XXXXXX")
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
