#!/usr/bin/env bash
# The dashboard query suite through `saleslake serve`'s Trino protocol and Athena API against the
# same queries in-process (bench/sql_dashboard_bench), on a lake of ROWS generated sales rows
# (built once by the demo's own steps and reused; the same lake as bench/sql_dashboard.sh), plus
# the paging rate of a large result and 32 concurrent Trino clients. See bench/query_protocols.mjs.
# Usage: bench/query_protocols.sh [ROWS] [LAKE_DIR] [BUILD_DIR]
#   (defaults: 10000000 /tmp/sql-bench-lake build/release; BUILD_DIR configured with
#    -DSALESLAKE_BENCH=ON; REPEATS, CLIENTS, CONCURRENT_QUERIES, PAGING_SQL, PHASES from the
#    environment; PHASES=paging runs only the paging phase)
set -euo pipefail
ROWS=${1:-10000000}
LAKE=${2:-/tmp/sql-bench-lake}
BUILD=${3:-build/release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/saleslake"
# (a directory of prebuilt binaries, without build.ninja, is used as it is)
if [ -f "$BUILD/build.ninja" ]; then
  ninja -C "$BUILD" sql_dashboard_bench trino_paging_client saleslake >/dev/null
fi
. "$ROOT/bench/demo_lake.sh"
demo_lake "$ROWS" "$LAKE" "$BIN"
work=$(mktemp -d "${TMPDIR:-/tmp}/qproto.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
user=bench-$$
"$BIN" --lake "$LAKE" iam create-user --user-name "$user" >/dev/null
"$BIN" --lake "$LAKE" iam put-user-policy --user-name "$user" --policy-name all --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' >/dev/null
key=$("$BIN" --lake "$LAKE" iam create-access-key --user-name "$user")
id=$(node -e 'console.log(JSON.parse(process.argv[1]).AccessKey.AccessKeyId)' "$key")
secret=$(node -e 'console.log(JSON.parse(process.argv[1]).AccessKey.SecretAccessKey)' "$key")
"$BIN" --lake "$LAKE" serve --port 0 --access-log '' 2>"$work/serve.err" &
pid=$!
for _ in $(seq 300); do grep -q serving "$work/serve.err" && break; sleep 0.1; done
port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.err")
[ -n "$port" ] || { cat "$work/serve.err"; exit 1; }
echo "load before: $(uptime)"
SERVER_PID=$pid CLK_TCK=$(getconf CLK_TCK) NATIVE_CLIENT="$BUILD/bench/trino_paging_client" \
  node "$ROOT/bench/query_protocols.mjs" "http://127.0.0.1:$port" "$id" "$secret" "$LAKE" \
  "$BUILD/bench/sql_dashboard_bench" "${REPEATS:-11}"
echo "server peak memory: $(grep VmHWM /proc/$pid/status)"
echo "load after: $(uptime)"
"$BIN" --lake "$LAKE" iam delete-access-key --user-name "$user" --access-key-id "$id" >/dev/null || true
