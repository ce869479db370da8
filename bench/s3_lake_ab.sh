#!/usr/bin/env bash
# Two builds on the lakes of an earlier bench/s3_lake.sh run (issue 21): per query of the
# dashboard suite, the local lake with AFTER, the S3 lake with BEFORE and the S3 lake with AFTER,
# alternating, each a new process, best of REPEATS (wall ms). The S3 lake is served by AFTER's
# `saleslake serve` of WORK/served on loopback (its admin key). SERVE_BEFORE=DIR, a copy of
# WORK/served (two servers cannot share one lake's state: `cp -al` its lake/processed_data and
# lake/raw_data, copy the rest), sends the BEFORE runs to BEFORE's own `serve` of DIR, to
# compare server-side changes too.
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
ms() {
  local s
  s=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", (b - a) * 1000}'
}
echo "# $(date -u +%FT%TZ) load average $(cut -d' ' -f1-3 /proc/loadavg); best of $REPEATS; S3 before served by $([ -n "$SERVE_B" ] && echo BEFORE || echo AFTER)"
echo "| q | local ms | S3 before ms | S3 after ms | before/local | after/local |"
echo "|---|---:|---:|---:|---:|---:|"
sum_l=0 sum_b=0 sum_a=0
for q in $QUERIES; do
  sql=$(sed -n "${q}p" "$SUITE")
  bl=999999 bb=999999 ba=999999
  for _ in $(seq "$REPEATS"); do
    x=$(ms "$AFTER" --lake "$WORK/local" query --format csv "$sql"); [ "$x" -lt "$bl" ] && bl=$x
    x=$(AWS_ENDPOINT_URL="http://127.0.0.1:$PORT_B" ms "$BEFORE" --lake "$S3LAKE" query --format csv "$sql"); [ "$x" -lt "$bb" ] && bb=$x
    x=$(ms "$AFTER" --lake "$S3LAKE" query --format csv "$sql"); [ "$x" -lt "$ba" ] && ba=$x
  done
  sum_l=$((sum_l + bl)) sum_b=$((sum_b + bb)) sum_a=$((sum_a + ba))
  awk -v q="$q" -v l="$bl" -v b="$bb" -v a="$ba" 'BEGIN{printf "| q%s | %d | %d | %d | %.2f | %.2f |\n", q, l, b, a, b / l, a / l}'
done
awk -v l="$sum_l" -v b="$sum_b" -v a="$sum_a" 'BEGIN{printf "| sum | %d | %d | %d | %.2f | %.2f |\n", l, b, a, b / l, a / l}'
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg)"
