# Sourced by the Kinesis benchmarks: gives the lake an IAM user allowed everything and exports
# its access key, so the server verifies SigV4 and policies on every request being measured.
# Usage: . bench/bench_user.sh; bench_user SALESLAKE_BINARY LAKE_DIR
bench_user() {
  local bin=$1 lake=$2 key
  "$bin" --lake "$lake" iam create-user --user-name bench >/dev/null
  "$bin" --lake "$lake" iam put-user-policy --user-name bench --policy-name all --policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' >/dev/null
  key=$("$bin" --lake "$lake" iam create-access-key --user-name bench)
  AWS_ACCESS_KEY_ID=$(node -e 'console.log(JSON.parse(process.argv[1]).AccessKey.AccessKeyId)' "$key")
  AWS_SECRET_ACCESS_KEY=$(node -e 'console.log(JSON.parse(process.argv[1]).AccessKey.SecretAccessKey)' "$key")
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}
