#!/usr/bin/env bash
# saleslake serve vs kinesalite (npm, in-memory), same machine, same client load
# (bench/kinesis_load.mjs: PutRecords requests signed up front with the AWS SDK's SigV4 signer and
# replayed over keep-alive HTTP/1.1 by node's http module, batches of 500 records of ~150 bytes
# from CLIENTS concurrent clients): acknowledged records/s and p50/p99 at
# peak, p50/p99 at half the peak rate, GetRecords drain rate; for saleslake also the delivery lag
# (time from the end of the load until every acknowledged record is delivered into sales_data)
# and peak memory (VmHWM) of both servers. saleslake acknowledges after fdatasync (group commit);
# kinesalite keeps records in memory. Figures go to bench/README.md.
# Usage: bench/kinesis_vs_kinesalite.sh [BUILD_DIR]   (env: CLIENTS=16 THREADS=4 SECONDS=10)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build/release}
bin=$build/saleslake
work=$(mktemp -d "${TMPDIR:-/tmp}/kinbench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
load=(--clients "${CLIENTS:-16}" --threads "${THREADS:-4}" --seconds "${SECONDS_PER_PHASE:-10}")
hwm() { grep VmHWM "/proc/$1/status" | awk '{print $2 / 1024 " MiB"}'; }

"$bin" --lake "$work/lake" init >/dev/null
# Deliveries every 5 s (or 64 MB) so the lag is measured at the load's rate, not the default 60 s.
sed -i 's/buffer_seconds: 60 /buffer_seconds: 5  /' "$work/lake/pipeline.yaml"
. "$here/bench_user.sh"
bench_user "$bin" "$work/lake"
"$bin" --lake "$work/lake" serve --port 0 --access-log '' 2>"$work/serve.err" &
spid=$!
pids+=($spid)
for _ in $(seq 100); do grep -q serving "$work/serve.err" && break; sleep 0.1; done
port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.err")
echo "== saleslake ($(nproc) cores; other builds may be running: $(cut -d' ' -f1-3 /proc/loadavg) load)"
node "$here/kinesis_load.mjs" "http://127.0.0.1:$port" sales-events "${load[@]}" | tee "$work/saleslake.json"
echo "uptime after the saleslake load: $(uptime)"
end=$(date +%s.%N)
acked=$(ls "$work/lake/streams/sales-events/" >/dev/null; node -e '
  const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(j.peak.acked + j.half.acked)' "$work/saleslake.json")
# Delivery lag: until delivery.json has committed every acknowledged record (bounded: 600 s).
lag=timeout
for _ in $(seq 6000); do
  done_n=$(node -e '
    try { const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
          console.log(s.pending ? 0 : s.committed.reduce((a, b) => a + b, 0)); } catch { console.log(0); }' \
    "$work/lake/streams/sales-events/delivery.json")
  if [ "$done_n" -ge "$acked" ]; then lag=$(echo "$(date +%s.%N) - $end" | bc); break; fi
  sleep 0.1
done
cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$spid/stat")
echo "saleslake: delivery lag after the load ${lag} s for $acked records; peak memory $(hwm $spid);" \
  "server CPU ${cpu} s in all (puts, drain, metrics, deliveries): $(echo "scale=1; $cpu * 1000000 / $acked" | bc) µs per record"

# kinesalite takes --port 0 as its default 4567: a free port from the kernel instead.
kport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node "$here/../tools/peers/node_modules/kinesalite/cli.js" --port "$kport" --createStreamMs 0 --shardLimit 1000 \
  >"$work/kinesalite.out" 2>&1 &
kpid=$!
pids+=($kpid)
for _ in $(seq 100); do grep -q Listening "$work/kinesalite.out" && break; sleep 0.1; done
echo "== kinesalite ($(cut -d' ' -f1-3 /proc/loadavg) load)"
node "$here/kinesis_load.mjs" "http://127.0.0.1:$kport" sales-events "${load[@]}"
echo "uptime after the kinesalite load: $(uptime)"
echo "kinesalite: peak memory $(hwm $kpid); server CPU $(awk '{print ($14 + $15) / 100}' "/proc/$kpid/stat") s in all"
