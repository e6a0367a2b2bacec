#!/usr/bin/env bash
# Steady-state decode at the largest concurrency a model's memory allows, for the paper experiment
# (bench/paper/report.py integrates it over the workload's lengths). Builds the CUDA build, asks
# `sambay serve` how many sequences of the workload's longest request its state budget holds, then
# runs `sambay bench --zero-context` at that batch at several contexts. Results go to OUT_DIR.
# Usage: scripts/gpu-steady.sh OUT_DIR MODEL [CONTEXT...]
#   default contexts: 2048 8192 16384 24576 32768 36864 (the 2K -> 32K workload passes 1.8K..37.4K)
set -uo pipefail
out=${1:?output dir}
model=${2:?model folder}
shift 2
contexts=("$@")
[[ ${#contexts[@]} -eq 0 ]] && contexts=(2048 8192 16384 24576 32768 36864)
mkdir -p "$out"
source "$(dirname "$0")/gpu-env.sh"
cd "$gpu_root"
log() { echo "== $(date -u +%T) $*" | tee -a "$out/summary.txt"; }

log "$(git rev-parse --short HEAD 2>/dev/null || echo no-git) $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader)"
gpu_build "$out" sambay >>"$out/summary.txt" || { log "build failed"; tail -20 "$out/summary.txt"; exit 1; }

# The serving plan for the workload's longest request (prompt 2200 + 35200 generated).
tokenizer=()
[[ -f "$model/tokenizer.json" ]] || tokenizer=(--tokenizer models/phi4-mini-flash-reasoning)
build-gpu/sambay serve --model "$model" "${tokenizer[@]}" --dummy --device cuda --port 8093 --max-seqs 4096 \
  --ctx 37408 >"$out/plan.log" 2>&1 &
server=$!
for _ in $(seq 1 240); do
  grep -q "maximum concurrency" "$out/plan.log" && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
kill -TERM "$server" 2>/dev/null
wait "$server" 2>/dev/null
plan=$(grep -o "state cache: [0-9]* slots.*" "$out/plan.log" | head -1)
# The batch: how many sequences the state budget holds at the workload's longest length.
batch=$(grep -o "full context of [0-9]*: [0-9]* sequences" "$out/plan.log" | head -1 | grep -o "[0-9]* sequences" |
  grep -o "[0-9]*")
[[ -n "$batch" ]] || { log "no serving plan"; tail -5 "$out/plan.log"; exit 1; }
log "serve plan: $plan; $batch sequences at full length"

for c in "${contexts[@]}"; do
  log "bench batch $batch context $c"
  timeout 300 build-gpu/sambay bench --model "$model" --dummy --device cuda --batch "$batch" --prompt-len "$c" \
    --gen-len 32 --zero-context --json >"$out/bench-$c.log" 2>&1
  tail -1 "$out/bench-$c.log" | tee -a "$out/steady.jsonl" | tee -a "$out/summary.txt"
done
