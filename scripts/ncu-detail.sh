#!/usr/bin/env bash
# Nsight Compute's full report (speed of light, memory, occupancy, warp stalls, source counters) for
# one launch of the kernels whose names match a regex, in one phase of `sambay bench`.
# Usage: [MODEL=folder] scripts/ncu-detail.sh BUILD_DIR prefill|decode KERNEL_REGEX BENCH_ARGS...
# (default model: models/phi4-mini-flash-reasoning). Skips the first few matching launches (warm-up).
set -euo pipefail
build=$1 phase=$2 kernel=$3
shift 3
ncu --profile-from-start off --cache-control none --clock-control none --set full \
  -k "regex:$kernel" --launch-skip 8 --launch-count 1 --print-summary none \
  "$build/sambay" bench --model "${MODEL:-models/phi4-mini-flash-reasoning}" --dummy --device cuda --no-ceilings \
  --profile-range "$phase" "$@" 2>&1 | grep -v "^info\|^==PROF==" || true
