#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, starting from the committed seed
# corpus (copied to a scratch folder, so the repository stays clean). Fails if a target crashes.
# Usage: scripts/run-fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail
build=$(cd "${1:?build dir}" && pwd)
seconds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A seeds=(
  [fuzz_safetensors]=tests/fuzz/corpus/safetensors
  [fuzz_config]=tests/fuzz/corpus/config
  [fuzz_tokenizer]=tests/fuzz/corpus/tokenizer
  [fuzz_chat_template]=tests/fuzz/corpus/chat_template
)
status=0
for bin in "$build"/tests/fuzz/fuzz_*; do
  [[ -x "$bin" ]] || continue
  name=$(basename "$bin")
  corpus="$work/$name"
  mkdir -p "$corpus"
  [[ -n "${seeds[$name]:-}" && -d "$root/${seeds[$name]}" ]] && cp -r "$root/${seeds[$name]}/." "$corpus/"
  echo "== $name: ${seconds}s"
  if ! (cd "$work" && "$bin" "$corpus" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 \
        -print_final_stats=1 2>"$work/$name.log"); then
    tail -n 60 "$work/$name.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$work/$name.log" | tail -n 2
  fi
done
exit $status
