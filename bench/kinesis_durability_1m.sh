#!/usr/bin/env bash
# The SIGKILL durability test at scale (not in CI): tools/peers/kinesis_producer.mjs puts
# 1,000,000 records (PutRecords batches of 500, 16 concurrent requests) in 6 rounds while
# `saleslake serve` is SIGKILLed at a random moment of each of the first 5 and restarted; then
# every acknowledged record must be in the log exactly once, at its acknowledged shard and
# sequence number, in order (bench/kinesis_verify.mjs), and after a restart and a graceful stop
# (which delivers everything) sales_data must hold each valid stored record exactly once
# (count, sum(amount) in cents, count(DISTINCT customer token)).
# Usage: bench/kinesis_durability_1m.sh [BUILD_DIR]   (env: RECORDS=1000000 ROUNDS=6)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build/release}
bin=$build/saleslake
records=${RECORDS:-1000000}
rounds=${ROUNDS:-6}
work=$(mktemp -d "${TMPDIR:-/tmp}/kindur.XXXXXX")
spid=
cleanup() { [ -n "$spid" ] && kill -9 "$spid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$bin" --lake "$work/lake" init >/dev/null
. "$here/bench_user.sh"
bench_user "$bin" "$work/lake"
export AWS_REGION=us-east-1

start_server() {
  "$bin" --lake "$work/lake" serve --port 0 --access-log '' 2>"$work/serve.err" &
  spid=$!
  for _ in $(seq 300); do grep -q serving "$work/serve.err" && break; sleep 0.1; done
  port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.err")
}

per=$((records / rounds))
acks=()
t0=$(date +%s)
for round in $(seq 0 $((rounds - 1))); do
  start_server
  ack="$work/acks-$round.txt"
  : >"$ack"
  acks+=("$ack")
  node "$here/../tools/peers/kinesis_producer.mjs" "http://127.0.0.1:$port" sales-events $((round * per)) "$per" 16 "$ack" &
  ppid=$!
  if [ "$round" -lt $((rounds - 1)) ]; then
    # Kill once a random share (10%..90%) of the round is acknowledged.
    want=$(( per * (10 + RANDOM % 81) / 100 ))
    for _ in $(seq 6000); do [ "$(wc -l <"$ack")" -ge "$want" ] && break; sleep 0.05; done
    kill -9 "$spid"; wait "$spid" 2>/dev/null || true
    echo "round $round: SIGKILL after $(wc -l <"$ack") acknowledgements"
  fi
  wait "$ppid" || true
  if [ "$round" -eq $((rounds - 1)) ]; then
    echo "round $round: $(wc -l <"$ack") acknowledgements"
  fi
done
echo "put phase: $(( $(date +%s) - t0 )) s"
node "$here/kinesis_verify.mjs" "http://127.0.0.1:$port" sales-events "${acks[@]}" | tee "$work/verify.json"
kill -TERM "$spid"; wait "$spid" || true   # a graceful stop delivers everything
spid=
expect=$(node -e 'const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).expect_sales_data;
                  console.log(`${e.rows},${e.cents},${e.customers}`)' "$work/verify.json")
got=$("$bin" --lake "$work/lake" query "SELECT count(*), CAST(round(sum(amount) * 100) AS BIGINT), count(DISTINCT customer_id) FROM sales_data" --format csv | tail -1)
echo "sales_data: $got (expected $expect)"
[ "$got" = "$expect" ] && echo "durability: ok" || { echo "durability: MISMATCH"; exit 1; }
