#!/usr/bin/env bash
# The lake on S3 against the same lake on local disk (issue 21): one generated CSV of ROWS rows
# goes through the demo's steps (init, upload, crawl, my-etl-job) into a local lake and into
# `--lake s3://my-analytics-bucket/lake` served by a real `saleslake serve` on loopback (a lake of
# its own, IAM on, every request signed), then the SQL dashboard suite (tests/sql/dashboard_suite.sql)
# runs against both (CSV out, `--timing` figures on stderr), each query in a new process, best of REPEATS, local and S3 alternating so
# that both see the same machine. Per query it prints both times, their ratio, the bytes the
# engine's scans needed ("scanned" of `query --timing`, on the local lake) and the bytes the
# server sent for the query's GETs (its /metrics counter, read before and after; a metrics
# request itself is a few KB and is subtracted), and their ratio.
# Targets (#21): queries <= 1.5x local time; bytes read <= 1.2x the column chunks needed.
# S3_SERVER=s3rver puts the S3 lake on s3rver (npm) instead.
# Usage: bench/s3_lake.sh [ROWS] [BUILD_DIR] [WORK_DIR]
#   (defaults 10000000 build/release /tmp/s3-lake-bench; REPEATS=3; SKIP="22" leaves out the
#    suite's 10M-row ORDER BY, a result-printing measurement rather than a scan one;
#    REUSE=1 keeps WORK's lakes of an earlier run (local/ and served/ or s3rver/) and only
#    serves and queries them: a 10M-row load takes minutes; ONLY="1 14" runs only those queries)
set -euo pipefail
ROWS=${1:-10000000}
BUILD=${2:-build/release}
WORK=${3:-/tmp/s3-lake-bench}
REPEATS=${REPEATS:-3}
SKIP=${SKIP:-22}
S3_SERVER=${S3_SERVER:-serve}  # or s3rver
REUSE=${REUSE:-0}
ONLY=${ONLY:-}  # e.g. "1 14": only these queries of the suite
# customer_id is tokenized with the lake's secret (_system/secret.key): both lakes get the same
# secret before `init`, so that q14 (a point lookup of the smallest token), q15 and q22 are the
# same query with the same rows on both. With a secret of its own, each lake's smallest token
# differs, and so do the row groups whose min/max let it through: q14 scanned 42.6 MB on one
# lake and 145 MB on the other. TOKENS lists queries whose rows may differ all the same (the
# lakes of an earlier run reused with REUSE=1 that had two secrets: TOKENS="14 15 22").
TOKENS=${TOKENS:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/saleslake"
SUITE="$ROOT/tests/sql/dashboard_suite.sql"
if [ "$REUSE" = 1 ]; then
  [ -d "$WORK/local" ] && [ -d "$WORK/served" -o -d "$WORK/s3rver" ] || { echo "REUSE=1: no earlier run in $WORK"; exit 1; }
else
  rm -rf "$WORK"
  mkdir -p "$WORK"
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b - a}'; }
echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(load); $ROWS rows; $("$BIN" --version)"

[ "$REUSE" = 1 ] || "$BIN" generate --rows "$ROWS" --messy --out "$WORK/sales.csv" >/dev/null

if [ "$S3_SERVER" = s3rver ]; then
  # s3rver (npm) in its own node process: no IAM, no conditional writes (commits then rely on a
  # single writer, as saleslake says), no metrics (bytes per query are not shown).
  mkdir -p "$WORK/s3rver"
  node "$ROOT/tools/peers/node_modules/s3rver/bin/s3rver.js" -d "$WORK/s3rver" -a 127.0.0.1 -p 0 \
    --configure-bucket my-analytics-bucket --silent >"$WORK/s3rver.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$WORK/s3rver.out" && break; sleep 0.1; done
  PORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/s3rver.out" | head -1 | cut -d: -f2)
  [ -n "$PORT" ] || { cat "$WORK/s3rver.out"; exit 1; }
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER SALESLAKE_S3_SINGLE_WRITER=1
else
  # saleslake serve: a lake of its own, an IAM user allowed everything, the access log off.
  SERVED="$WORK/served"
  if [ "$REUSE" = 1 ]; then
    # The served lake's admin key (its user "bench" keeps the key made on the first run).
    AWS_ACCESS_KEY_ID=$(sed -n 's/^aws_access_key_id *= *//p' "$SERVED/_system/admin-credentials")
    AWS_SECRET_ACCESS_KEY=$(sed -n 's/^aws_secret_access_key *= *//p' "$SERVED/_system/admin-credentials")
  else
    "$BIN" --lake "$SERVED" init >/dev/null
    "$BIN" --lake "$SERVED" iam create-user --user-name bench >/dev/null
    "$BIN" --lake "$SERVED" iam put-user-policy --user-name bench --policy-name all --policy-document \
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' >/dev/null
    KEY=$("$BIN" --lake "$SERVED" iam create-access-key --user-name bench)
    AWS_ACCESS_KEY_ID=$(sed -n 's/.*"AccessKeyId": "\(.*\)".*/\1/p' <<<"$KEY")
    AWS_SECRET_ACCESS_KEY=$(sed -n 's/.*"SecretAccessKey": "\(.*\)".*/\1/p' <<<"$KEY")
  fi
  "$BIN" --lake "$SERVED" serve --port 0 --access-log '' 2>"$WORK/serve.err" &
  pids+=($!)
  for _ in $(seq 100); do grep -q serving "$WORK/serve.err" && break; sleep 0.1; done
  PORT=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/serve.err")
  [ -n "$PORT" ] || { cat "$WORK/serve.err"; exit 1; }
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
fi
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PROFILE= AWS_ENDPOINT_URL_S3=
export SALESLAKE_PROGRESS=never
S3LAKE=s3://my-analytics-bucket/lake
LOCAL="$WORK/local"
# Bytes the server has sent so far (all responses; one /metrics answer is counted in the next read).
sent() {
  [ "$S3_SERVER" = serve ] || { echo 0; return; }
  curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    "http://127.0.0.1:$PORT/metrics" | sed -n 's/^saleslake_sent_bytes_total \([0-9]*\)$/\1/p'
}

if [ "$REUSE" != 1 ]; then
echo "## pipeline: local disk vs S3 ($S3_SERVER on loopback), wall seconds"
printf '| step | local | S3 | ratio |\n|---|---:|---:|---:|\n'
step() {
  local name=$1
  shift
  local t0 tl ts
  t0=$(now)
  "$BIN" --lake "$LOCAL" "$@" >"$WORK/local.$name.out"
  tl=$(since "$t0")
  t0=$(now)
  "$BIN" --lake "$S3LAKE" "$@" >"$WORK/s3.$name.out"
  ts=$(since "$t0")
  awk -v n="$name" -v l="$tl" -v s="$ts" 'BEGIN{printf "| %s | %.2f | %.2f | %.2f |\n", n, l, s, s / l}'
  STEP_L[$name]=$tl
  STEP_S[$name]=$ts
}
declare -A STEP_L STEP_S
# The same PII secret in both lakes (init keeps an existing one, locally and on S3).
SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
mkdir -p "$LOCAL/_system"
(umask 077 && echo "$SECRET" >"$LOCAL/_system/secret.key")
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$LOCAL/_system/secret.key" \
  "$AWS_ENDPOINT_URL/my-analytics-bucket/lake/_system/secret.key" >/dev/null
step init init
step upload upload "$WORK/sales.csv"
step crawl crawl
step my-etl-job start-job --job-name my-etl-job
step "my-etl-job again (no-op)" start-job --job-name my-etl-job
grep -q succeeded "$WORK/s3.my-etl-job.out" || { cat "$WORK/s3.my-etl-job.out"; exit 1; }
CSV_MB=$(($(stat -c %s "$WORK/sales.csv") / 1000000))
awk -v mb="$CSV_MB" -v l="${STEP_L[upload]}" -v s="${STEP_S[upload]}" \
  'BEGIN{printf "# upload of the %d MB CSV: %.0f MB/s to local disk, %.0f MB/s to S3 (multipart)\n", mb, mb / l, mb / s}'
echo "# load average $(load)"
fi

same() {
  awk -F, 'NR == FNR { a[FNR] = $0; n = FNR; next }
    { if (FNR > n) exit 1; split(a[FNR], x, ","); m = split($0, y, ",")
      for (i = 1; i <= m; i++) if (x[i] != y[i]) {
        if (x[i] !~ /^-?[0-9.e+-]+$/ || y[i] !~ /^-?[0-9.e+-]+$/) exit 1
        d = x[i] - y[i]; if (d < 0) d = -d; s = x[i] < 0 ? -x[i] : x[i]
        if (d > 1e-9 * (s > 1 ? s : 1)) exit 1 } }
    END { if (FNR != n) exit 1 }' "$1" "$2"
}
echo "## the dashboard suite: a new process per query, best of $REPEATS, same results required"
printf '| q | local ms | S3 ms | ratio | scanned (needed) | sent by the server | ratio |\n|---|---:|---:|---:|---:|---:|---:|\n'
QUERY_ARGS=(query --timing --format csv --max-rows 1000000)
n=0
sum_l=0
sum_s=0
while IFS= read -r sql; do
  [ -n "$sql" ] || continue
  n=$((n + 1))
  case " $SKIP " in *" $n "*) continue ;; esac
  [ -z "$ONLY" ] || case " $ONLY " in *" $n "*) ;; *) continue ;; esac
  best_l=999999
  best_s=999999
  sent_b=0
  for r in $(seq "$REPEATS"); do
    t0=$(now)
    "$BIN" --lake "$LOCAL" "${QUERY_ARGS[@]}" "$sql" >"$WORK/q.local" 2>"$WORK/q.local.err"
    tl=$(since "$t0")
    before=$(sent)
    t0=$(now)
    "$BIN" --lake "$S3LAKE" "${QUERY_ARGS[@]}" "$sql" >"$WORK/q.s3" 2>"$WORK/q.s3.err"
    ts=$(since "$t0")
    after=$(sent)
    [ "$r" = 1 ] && sent_b=$((after - before))
    best_l=$(awk -v a="$best_l" -v b="$tl" 'BEGIN{print (b < a ? b : a)}')
    best_s=$(awk -v a="$best_s" -v b="$ts" 'BEGIN{print (b < a ? b : a)}')
  done
  # The same rows; unrounded float sums may differ in their last
  # digits (addition order follows the files' row groups), so numbers compare to 1e-9.
  if [[ " $TOKENS " != *" $n "* ]] && ! same "$WORK/q.local" "$WORK/q.s3"; then
    echo "q$n: results differ"
    diff "$WORK/q.local" "$WORK/q.s3" | head -5 || true
  fi
  # What the engine needed on the S3 lake itself (the same as locally when both lakes hold the
  # same rows under the same secret).
  scanned=$(tail -1 "$WORK/q.s3.err" | sed -n 's/.*, \([0-9.]* [KMGT]*B\) scanned, .*/\1/p')
  scanned_local=$(tail -1 "$WORK/q.local.err" | sed -n 's/.*, \([0-9.]* [KMGT]*B\) scanned, .*/\1/p')
  [ "$scanned" = "$scanned_local" ] || echo "# q$n scanned $scanned_local locally and $scanned on S3"
  scanned_b=$(awk -v t="$scanned" 'BEGIN{split(t, a, " "); m = a[2] == "KB" ? 1e3 : a[2] == "MB" ? 1e6 : a[2] == "GB" ? 1e9 : 1; printf "%.0f", a[1] * m}')
  sum_l=$(awk -v a="$sum_l" -v b="$best_l" 'BEGIN{print a + b}')
  sum_s=$(awk -v a="$sum_s" -v b="$best_s" 'BEGIN{print a + b}')
  awk -v q="$n" -v l="$best_l" -v s="$best_s" -v sc="$scanned" -v scb="$scanned_b" -v se="$sent_b" -v srv="$S3_SERVER" 'BEGIN{
    printf "| q%s | %.0f | %.0f | %.2f | %s | %s | %s |\n", q, l * 1000, s * 1000, s / l, sc,
      (srv == "serve" ? sprintf("%.1f MB", se / 1e6) : "-"), (srv == "serve" && scb > 0 ? sprintf("%.2f", se / scb) : "-") }'
done <"$SUITE"
awk -v l="$sum_l" -v s="$sum_s" 'BEGIN{printf "| suite | %.0f | %.0f | %.2f | | | |\n", l * 1000, s * 1000, s / l}'
echo "# load average $(load); $S3_SERVER peak memory $(grep VmHWM /proc/"${pids[0]}"/status | tr -s ' ' | cut -d' ' -f2-)"
