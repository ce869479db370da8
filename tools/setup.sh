#!/usr/bin/env bash
# Installs exactly what saleslake needs on a fresh Debian 12 machine (run as root, idempotent).
# Packages already present are skipped; versions are those of Debian 12 (bookworm) at the time of
# writing, listed in the README. Node packages (DuckDB peer for tests and benchmarks)
# come from package.json in tools/peers and are installed with `npm ci`.
set -euo pipefail

# Build tools, test frameworks, fuzzing runtime (clang + libFuzzer), libraries (codecs, crypto,
# HTTP, JSON, YAML, CLI, formatting, number parsing, regex, hashing, Boost.Beast/Asio for the
# server). The AWS CLI v2, boto3 and curl are the real clients the server's tests drive.
# libcurl (with OpenSSL for SigV4) is the S3 store's client (--lake s3://...); its tests also run
# against s3rver (npm, tools/peers).
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libzstd-dev libsnappy-dev zlib1g-dev liblz4-dev libbrotli-dev
  libssl-dev libcurl4-openssl-dev
  libcpp-httplib-dev nlohmann-json3-dev libsimdjson-dev libyaml-cpp-dev
  libcli11-dev libfmt-dev libfast-float-dev libre2-dev libxxhash-dev
  libboost-dev
  awscli python3-boto3 curl openssl
  python3-aiosmtpd  # tests: the SMTP server e-mail alerts are delivered to
  python3-cbor2  # tests: a Kinesis client in AWS's CBOR format (as the Java SDK sends it)
  rsync  # tests: a lake copied with rsync -a loads nothing twice
  libedit-dev libcairo2-dev
  chromium  # the web console's browser tests (driven headless by playwright-core)
)
# Node.js runs the DuckDB peer in interop tests and benchmarks; the machine may already have a
# newer one than Debian's, which is fine.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/peers/package.json" ] && { [ ! -d "$here/peers/node_modules/@duckdb/node-api" ] ||
    [ ! -d "$here/peers/node_modules/@aws-sdk/client-s3" ] || [ ! -d "$here/peers/node_modules/@aws-sdk/client-kinesis" ] ||
    [ ! -d "$here/peers/node_modules/s3rver" ] || [ ! -d "$here/peers/node_modules/playwright-core" ] ||
    [ ! -d "$here/peers/node_modules/trino-client" ] || [ ! -d "$here/peers/node_modules/kinesalite" ]; }; then
  echo "setup: installing node peers (DuckDB, AWS SDKs, s3rver, kinesalite, playwright-core, Trino/Presto clients) in tools/peers"
  (cd "$here/peers" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The web console's front-end packages (ECharts), embedded in the binary at build time.
if [ -f "$here/../web/package.json" ] && [ ! -f "$here/../web/node_modules/echarts/dist/echarts.min.js" ]; then
  echo "setup: installing the web console's packages (ECharts) in web/"
  (cd "$here/../web" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
