# Sourced by the S3 CPU benchmarks (bench/s3_get_cpu.sh, bench/s3_put_large_cpu.sh): a fresh lake
# with bench_user's IAM user (its key exported, as bench/s3_vs_s3rver.sh signs), and `saleslake
# serve` on a free loopback port with SERVE_ARGS.
# serve_bench BIN TAG sets work (removed on exit), spid and port.
. "$(dirname "${BASH_SOURCE[0]}")/bench_user.sh"
serve_bench() {
  local bin=$1
  work=$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX")
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
  "$bin" --lake "$work/lake" init >/dev/null
  bench_user "$bin" "$work/lake"
  "$bin" --lake "$work/lake" serve --port 0 --access-log '' ${SERVE_ARGS:-} 2>"$work/serve.err" &
  spid=$!
  pids+=("$spid")
  for _ in $(seq 100); do grep -q serving "$work/serve.err" && break; sleep 0.1; done
  port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.err")
  [ -n "$port" ] || { cat "$work/serve.err" >&2; return 1; }
}
