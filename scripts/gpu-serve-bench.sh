#!/usr/bin/env bash
# The serving benchmark on a GPU machine: builds the CUDA build (with the text module and HTTP server;
# packages unpacked by scripts/carry-deps.sh into .deps/ are used when the machine lacks them),
# starts `sambay serve` on the released model's shapes with dummy weights, drives it with
# `sambay loadgen`, and writes the load generator's JSON, the server log and /metrics to OUT_DIR.
# Usage: [MODEL=folder] [SERVE_ARGS=...] scripts/gpu-serve-bench.sh OUT_DIR [loadgen options...]
#   default model: models/phi4-mini-flash-reasoning; default load: --workload paper-2k-32k --concurrency 16
#   MODEL=models/phi4-mini-instruct (config only) takes the flash folder's tokenizer, which it shares.
set -uo pipefail
out=${1:?output dir}
shift
mkdir -p "$out"
source "$(dirname "$0")/gpu-env.sh"
cd "$gpu_root"
log() { echo "== $(date -u +%T) $*" | tee -a "$out/summary.txt"; }

log "$(git rev-parse --short HEAD 2>/dev/null || echo no-git) $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader)"
gpu_build "$out" sambay >>"$out/summary.txt" || { log "build failed"; tail -20 "$out/summary.txt"; exit 1; }
build-gpu/sambay --help | grep -q "serve" || { log "sambay was built without the server"; exit 1; }
log "build ok"

port=8091
model=${MODEL:-models/phi4-mini-flash-reasoning}
tokenizer=()
[[ -f "$model/tokenizer.json" ]] || tokenizer=(--tokenizer models/phi4-mini-flash-reasoning)
log "serve $model ${SERVE_ARGS:-}"
build-gpu/sambay serve --model "$model" "${tokenizer[@]}" --dummy --device cuda --port "$port" \
  ${SERVE_ARGS:-} >"$out/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { log "server exited"; tail -20 "$out/serve.log"; exit 1; }
  sleep 0.5
done
log "server up"
args=("$@")
[[ ${#args[@]} -eq 0 ]] && args=(--workload paper-2k-32k --concurrency 16)
log "loadgen ${args[*]}"
build-gpu/sambay loadgen --url "http://127.0.0.1:$port" --json "$out/loadgen.json" "${args[@]}" 2>&1 |
  tee "$out/loadgen.txt"
curl -sf "http://127.0.0.1:$port/metrics" >"$out/metrics.txt"
kill -TERM "$server"
wait "$server"
log "server exit status $?"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >>"$out/summary.txt"
