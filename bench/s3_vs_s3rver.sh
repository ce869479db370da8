#!/usr/bin/env bash
# saleslake serve vs s3rver (npm), same machine, same client (bench/s3_bench.mjs, AWS SDK v3 with
# its default checksums), one run each: 4 KB PUT/GET with 64 concurrent clients, and one large
# object up (multipart, 8 MB parts) and down; then the same again from bench/s3_load.mjs, which
# presigns with the SDK's signer and sends with curl, so that the client is not the bottleneck.
# Figures go to bench/README.md.
# Usage: bench/s3_vs_s3rver.sh [BUILD_DIR]   (SMALL_OPS, CONCURRENCY, LARGE_MB as in s3_bench.mjs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build/release}
bin=$build/saleslake
work=$(mktemp -d "${TMPDIR:-/tmp}/s3bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
bucket=my-analytics-bucket

"$bin" --lake "$work/lake" init >/dev/null
auth=(--no-auth)
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
if "$bin" --lake "$work/lake" iam create-user --user-name bench >/dev/null 2>&1; then
  # With IAM: the server verifies every signature (the figures include SigV4 and policy checks).
  "$bin" --lake "$work/lake" iam put-user-policy --user-name bench --policy-name all --policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' >/dev/null
  key=$("$bin" --lake "$work/lake" iam create-access-key --user-name bench)
  export AWS_ACCESS_KEY_ID=$(node -e 'console.log(JSON.parse(process.argv[1]).AccessKey.AccessKeyId)' "$key")
  export AWS_SECRET_ACCESS_KEY=$(node -e 'console.log(JSON.parse(process.argv[1]).AccessKey.SecretAccessKey)' "$key")
  auth=()
fi
"$bin" --lake "$work/lake" serve --port 0 --access-log '' "${auth[@]}" 2>"$work/serve.err" &
pids+=($!)
for _ in $(seq 100); do grep -q serving "$work/serve.err" && break; sleep 0.1; done
port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.err")
echo "saleslake: $(head -1 "$work/serve.err")"
node "$here/s3_bench.mjs" "http://127.0.0.1:$port" "$bucket" saleslake
node "$here/s3_load.mjs" "http://127.0.0.1:$port" "$bucket" saleslake

mkdir -p "$work/s3rver"
node "$here/../tools/peers/node_modules/s3rver/bin/s3rver.js" -d "$work/s3rver" -a 127.0.0.1 -p 0 \
  --configure-bucket "$bucket" --silent >"$work/s3rver.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "listening" "$work/s3rver.out" && break; sleep 0.1; done
sport=$(grep -o '127.0.0.1:[0-9]*' "$work/s3rver.out" | head -1 | cut -d: -f2)
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
node "$here/s3_bench.mjs" "http://127.0.0.1:$sport" "$bucket" s3rver
node "$here/s3_load.mjs" "http://127.0.0.1:$sport" "$bucket" s3rver
