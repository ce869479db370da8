#!/usr/bin/env bash
# Runs every libFuzzer target built in build/asan for N seconds (default 15), seeded from its
# corpus folder fuzz/corpus/<name>/ when there is one plus any seeds the target's own seed script
# lists. Longer runs on demand: tools/fuzz.sh 600. A crash leaves its input in build/fuzz-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-15}
mkdir -p build/fuzz-out
shopt -s nullglob
for bin in build/asan/fuzz/*_fuzz; do
  name=$(basename "$bin")
  work=build/fuzz-out/$name
  mkdir -p "$work/corpus"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds+=("fuzz/corpus/$name")
  [ -f "fuzz/$name.seeds" ] && while read -r s; do
    [ -n "$s" ] && [ -e "$s" ] && seeds+=("$s")
  done < "fuzz/$name.seeds"
  echo "== fuzz $name for ${SECONDS_EACH}s"
  "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
    -artifact_prefix="$work/" "$work/corpus" "${seeds[@]}" > "$work/log.txt" 2>&1 || {
    tail -40 "$work/log.txt"; echo "fuzz: $name failed (input saved under $work/)"; exit 1; }
done
