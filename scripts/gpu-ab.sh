#!/usr/bin/env bash
# On the GPU machine: builds the tree once per source version prepared by scripts/ab-variants.sh
# (one build directory, so only the differing files recompile) and runs the batch-1 decode at 2K of
# both models for each (and at any other prompt lengths given), one after another on the same GPU.
# Restores the tree's own files at the end. List the revisions so that neighbours differ little: each
# build recompiles only what changed since the one before.
# Usage: [AB_BATCHES="1 4"] [AB_MODELS=phi4-mini-instruct] scripts/gpu-ab.sh OUT_DIR [PROMPT_LEN...]
#   (default: prompt 2048, batch 1, both models; 128 generated tokens)
set -uo pipefail
out=${1:?output dir}
shift
prompts=("$@")
[[ ${#prompts[@]} -eq 0 ]] && prompts=(2048)
mkdir -p "$out"
source "$(dirname "$0")/gpu-env.sh"
cd "$gpu_root" || exit 1
ab=.deps/ab
# Each version unpacked once; a swap then rewrites only the files whose content differs from what the
# last build saw, so the build recompiles what differs between two versions and nothing more.
stage=$(mktemp -d)
mkdir -p "$stage/tree"
tar -xzf "$ab/tree.tar.gz" -C "$stage/tree"
# use_version DIR: every listed file as DIR has it, else as the tree has it, else absent.
use_version() {
  local f src
  while read -r f; do
    if [[ -e "$1/$f" ]]; then src="$1/$f"
    elif [[ -e "$stage/tree/$f" ]]; then src="$stage/tree/$f"
    else rm -f "$f"; continue; fi
    cmp -s "$src" "$f" || { mkdir -p "$(dirname "$f")"; cp "$src" "$f"; }
  done <"$ab/FILES"
}
trap 'use_version "$stage/tree"; rm -rf "$stage"' EXIT
for rev in $(cat "$ab/REVS"); do
  mkdir -p "$stage/$rev"
  tar -xzf "$ab/$rev.tar.gz" -C "$stage/$rev"
  use_version "$stage/$rev"
  gpu_build "$out" sambay || exit 1
  for b in ${AB_BATCHES:-1}; do
    for p in "${prompts[@]}"; do
      for m in ${AB_MODELS:-phi4-mini-flash-reasoning phi4-mini-instruct}; do
        m=models/$m
        r=$(build-gpu/sambay bench --model "$m" --dummy --device cuda --json --no-ceilings --prompt-len "$p" \
          --gen-len 128 --batch "$b" 2>/dev/null | tail -1)
        echo "$rev $m $r" | tee -a "$out/ab.txt"
      done
    done
  done
done
