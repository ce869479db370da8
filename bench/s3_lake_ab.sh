#!/usr/bin/env bash
# Two builds on the lakes of an earlier bench/s3_lake.sh run (issue 21): per query of the
# dashboard suite, the local lake with AFTER, the S3 lake with BEFORE and the S3 lake with AFTER,
# alternating, each a new process, best of REPEATS (wall ms). The S3 lake is served by AFTER's
# `saleslake serve` of WORK/served on loopback (its admin key). SERVE_BEFORE=DIR, a copy of
# WORK/served (two servers cannot share one lake's state: `cp -al` its lake/processed_data and
# lake/raw_data, copy the rest), sends the BEFORE runs to BEFORE's own `serve` of DIR, to
# compare server-side changes too. Besides wall ms, each run's CPU ms: the query process's user +
# system time plus the server's meanwhile (from /proc), which the load of a shared machine moves
# far less than the wall clock.
# Usage: bench/s3_lake_ab.sh BEFORE_BIN AFTER_BIN WORK ["1 2 3"]   (REPEATS=3, SERVE_BEFORE=)
set -euo pipefail
BEFORE=$1
AFTER=$2
WORK=$3
QUERIES=${4:-1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 23 24 25}
REPEATS=${REPEATS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUITE="$ROOT/tests/sql/dashboard_suite.sql"
[ -d "$WORK/local" ] && [ -d "$WORK/served" ] || { echo "no earlier bench/s3_lake.sh run in $WORK"; exit 1; }
AWS_ACCESS_KEY_ID=$(sed -n 's/^aws_access_key_id *= *//p' "$WORK/served/_system/admin-credentials")
AWS_SECRET_ACCESS_KEY=$(sed -n 's/^aws_secret_access_key *= *//p' "$WORK/served/_system/admin-credentials")
ERR=$(mktemp)
ERR_B=$(mktemp)
SERVE_B=
"$AFTER" --lake "$WORK/served" serve --port 0 --access-log '' 2>"$ERR" &
SERVE=$!
if [ -n "${SERVE_BEFORE:-}" ]; then
  "$BEFORE" --lake "$SERVE_BEFORE" serve --port 0 --access-log '' 2>"$ERR_B" &
  SERVE_B=$!
fi
trap 'kill $SERVE $SERVE_B 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$ERR" "$ERR_B"' EXIT
port_of() {
  for _ in $(seq 100); do grep -q serving "$1" && break; sleep 0.1; done
  sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$1"
}
PORT=$(port_of "$ERR")
[ -n "$PORT" ] || { cat "$ERR"; exit 1; }
PORT_B=$PORT
if [ -n "$SERVE_B" ]; then
  PORT_B=$(port_of "$ERR_B")
  [ -n "$PORT_B" ] || { cat "$ERR_B"; exit 1; }
fi
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PROFILE= AWS_ENDPOINT_URL_S3=
export SALESLAKE_PROGRESS=never
S3LAKE=s3://my-analytics-bucket/lake
TICK=$(getconf CLK_TCK)
# CPU ms a process has used so far (user + system).
cpu_of() { awk -v t="$TICK" '{printf "%.0f", ($14 + $15) * 1000 / t}' "/proc/$1/stat"; }
# One run: "wall_ms cpu_ms", cpu = the command's own user + system time plus what the server
# `$1` (a pid, or - for none) spent meanwhile: on a machine whose cores are shared, CPU time
# says more than the wall clock.
run() {
  local srv=$1 s c0=0 c1=0 tf
  shift
  tf=$(mktemp)
  [ "$srv" = - ] || c0=$(cpu_of "$srv")
  s=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$tf" "$@" >/dev/null 2>&1
  local e
  e=$(date +%s.%N)
  [ "$srv" = - ] || c1=$(cpu_of "$srv")
  awk -v a="$s" -v b="$e" -v c0="$c0" -v c1="$c1" '{printf "%.0f %.0f\n", (b - a) * 1000, ($1 + $2) * 1000 + c1 - c0}' "$tf"
  rm -f "$tf"
}
echo "# $(date -u +%FT%TZ) load average $(cut -d' ' -f1-3 /proc/loadavg); best of $REPEATS; S3 before served by $([ -n "$SERVE_B" ] && echo BEFORE || echo AFTER)"
echo "# cpu = the query process's user+system ms, plus the server's during the S3 runs (least of the repeats)"
echo "| q | local ms | S3 before ms | S3 after ms | before/local | after/local | local cpu | S3 before cpu | S3 after cpu |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
sum_l=0 sum_b=0 sum_a=0 sum_cl=0 sum_cb=0 sum_ca=0
min() { [ "$1" -lt "$2" ] && echo "$1" || echo "$2"; }
for q in $QUERIES; do
  sql=$(sed -n "${q}p" "$SUITE")
  bl=999999 bb=999999 ba=999999 cl=999999 cb=999999 ca=999999
  for _ in $(seq "$REPEATS"); do
    read -r w c < <(run - "$AFTER" --lake "$WORK/local" query --format csv "$sql"); bl=$(min "$w" "$bl"); cl=$(min "$c" "$cl")
    read -r w c < <(AWS_ENDPOINT_URL="http://127.0.0.1:$PORT_B" run "${SERVE_B:-$SERVE}" "$BEFORE" --lake "$S3LAKE" query --format csv "$sql"); bb=$(min "$w" "$bb"); cb=$(min "$c" "$cb")
    read -r w c < <(run "$SERVE" "$AFTER" --lake "$S3LAKE" query --format csv "$sql"); ba=$(min "$w" "$ba"); ca=$(min "$c" "$ca")
  done
  sum_l=$((sum_l + bl)) sum_b=$((sum_b + bb)) sum_a=$((sum_a + ba)) sum_cl=$((sum_cl + cl)) sum_cb=$((sum_cb + cb)) sum_ca=$((sum_ca + ca))
  awk -v q="$q" -v l="$bl" -v b="$bb" -v a="$ba" -v cl="$cl" -v cb="$cb" -v ca="$ca" 'BEGIN{printf "| q%s | %d | %d | %d | %.2f | %.2f | %d | %d | %d |\n", q, l, b, a, b / l, a / l, cl, cb, ca}'
done
awk -v l="$sum_l" -v b="$sum_b" -v a="$sum_a" -v cl="$sum_cl" -v cb="$sum_cb" -v ca="$sum_ca" 'BEGIN{printf "| sum | %d | %d | %d | %.2f | %.2f | %d | %d | %d |\n", l, b, a, b / l, a / l, cl, cb, ca}'
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg)"
