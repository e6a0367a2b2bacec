#!/usr/bin/env bash
# On the GPU machine: builds the tree once per source version prepared by scripts/ab-variants.sh
# (one build directory, so only the differing files recompile) and runs the batch-1 decode at 2K of
# both models for each (and at any other prompt lengths given), one after another on the same GPU. Restores the tree's own files at the end
# (extracted with fresh times, so that the build sees every swap).
# Usage: scripts/gpu-ab.sh OUT_DIR [PROMPT_LEN...]   (default: 2048; batch 1, 128 generated tokens)
set -uo pipefail
out=${1:?output dir}
shift
prompts=("$@")
[[ ${#prompts[@]} -eq 0 ]] && prompts=(2048)
mkdir -p "$out"
source "$(dirname "$0")/gpu-env.sh"
cd "$gpu_root" || exit 1
ab=.deps/ab
restore_tree() {
  tar -xmzf "$ab/tree.tar.gz"
  xargs -r rm -f <"$ab/ABSENT"
}
trap restore_tree EXIT
for rev in $(cat "$ab/REVS"); do
  restore_tree
  tar -xmzf "$ab/$rev.tar.gz"
  gpu_build "$out" sambay || exit 1
  for p in "${prompts[@]}"; do
    for m in models/phi4-mini-flash-reasoning models/phi4-mini-instruct; do
      r=$(build-gpu/sambay bench --model "$m" --dummy --device cuda --json --no-ceilings --prompt-len "$p" \
        --gen-len 128 --batch 1 2>/dev/null | tail -1)
      echo "$rev $m $r" | tee -a "$out/ab.txt"
    done
  done
done
