#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds the CUDA backend, runs the GPU tests (also under
# compute-sanitizer memcheck), the golden parity of the BF16 path, and the benchmarks of the
# released model's shapes with dummy weights. Results go to OUT_DIR (logs, JSON, a summary).
# Usage: scripts/gpu-check.sh OUT_DIR [quick|decode|phi4|phi4-ncu|phi4-attn-ncu|memcheck|bench|full]
#   quick: tests only; decode: tests and the decode benchmarks with overlapped launches on and off;
#   phi4: tests, compute-sanitizer, and the Phi-4-mini decode benchmarks and profile;
#   phi4-ncu: tests and Nsight Compute's time per kernel of Phi-4-mini's decode steps (2K and 8K, batch 1);
#   phi4-attn-ncu: tests and Nsight Compute's full report on Phi-4-mini's decode attention kernels;
#   memcheck: tests and compute-sanitizer; bench: and benchmarks; full: and Nsight Compute
set -uo pipefail
final=${1:?output dir}
mode=${2:-full}
mkdir -p "$final"
out=$(mktemp -d)  # every log lands here; OUT_DIR gets the summary and bench.jsonl as they grow, logs.tar.gz at the end
trap 'tar -czf "$final/logs.tar.gz" -C "$out" .' EXIT
source "$(dirname "$0")/gpu-env.sh"
cd "$gpu_root"
summary="$final/summary.txt"  # written as the run goes, so a run cut off by a time limit still reports
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }

note "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo no-git) $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader)"
nvcc --version | tail -1 | tee -a "$summary"

gpu_build "$out" sambay test_cuda_ops test_golden_gpu test_golden_parity | tee -a "$summary"
[[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1
note "build ok"

run() {  # name, timeout seconds, command...
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  note "$(printf '%-28s rc=%-3s %4ss' "$name" "$rc" "$((SECONDS - start))")"
  return $rc
}

run test_cuda_ops 300 build-gpu/tests/gpu/test_cuda_ops
grep -E "FAILED|Failure|rel_error|Expected|Which" "$out/test_cuda_ops.log" | head -40 | tee -a "$summary"
run test_golden_gpu 300 build-gpu/tests/gpu/test_golden_gpu
grep -E "rel_rms|FAILED" "$out/test_golden_gpu.log" | tee -a "$summary"
run test_golden_parity_cpu 300 build-gpu/tests/golden/test_golden_parity
[[ "$mode" == quick ]] && exit 0

model=models/phi4-mini-flash-reasoning
bench() {  # name, args...
  local name=$1
  shift
  run "bench-$name" 400 build-gpu/sambay bench --model "$model" --dummy --device cuda --json "$@"
  tail -1 "$out/bench-$name.log" >>"$final/bench.jsonl"
  tail -1 "$out/bench-$name.log" | tee -a "$summary"
}
memcheck() {
  for t in test_golden_gpu test_cuda_ops; do
    run "memcheck-$t" 500 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 build-gpu/tests/gpu/$t
    grep -E "ERROR SUMMARY|LEAK SUMMARY|PASSED|FAILED" "$out/memcheck-$t.log" | tee -a "$summary"
  done
}
if [[ "$mode" == phi4 ]]; then
  # The Phi-4-mini transformer (dummy weights): batch-1 decode first (the figure that matters most if
  # the run is cut short), the flash model's batch-1 figure beside it, a per-op profile, the long and
  # batched runs, and compute-sanitizer last.
  model=models/phi4-mini-instruct
  bench phi4-b1-p2k --prompt-len 2048 --gen-len 128 --batch 1
  model=models/phi4-mini-flash-reasoning
  bench flash-b1-p2k --prompt-len 2048 --gen-len 128 --batch 1 --no-ceilings
  model=models/phi4-mini-instruct
  run profile-phi4-p2k 300 build-gpu/sambay bench --model "$model" --dummy --device cuda \
    --prompt-len 2048 --gen-len 8 --batch 1 --no-ceilings --profile
  grep -v "^info" "$out/profile-phi4-p2k.log" | head -40 | tee -a "$summary"
  bench phi4-b1-p32k --prompt-len 32768 --gen-len 64 --batch 1 --no-ceilings
  bench phi4-b16-p2048 --prompt-len 2048 --gen-len 64 --batch 16 --no-ceilings
  memcheck
  exit 0
fi
if [[ "$mode" == phi4-ncu ]]; then
  export MODEL=models/phi4-mini-instruct  # for ncu-kernels.sh
  for p in 2048 8192; do
    run "ncu-phi4-decode-$p" 300 scripts/ncu-kernels.sh build-gpu decode \
      --prompt-len "$p" --gen-len 4 --batch 1
    cat "$out/ncu-phi4-decode-$p.log" | tee -a "$summary"
  done
  exit 0
fi
if [[ "$mode" == phi4-attn-ncu ]]; then
  # Phi-4-mini's decode attention in detail: the split-key kernel and its merge at 8K and 32K
  # (batch 1) and at 16K with 4 sequences.
  export MODEL=models/phi4-mini-instruct
  for spec in "8192 1" "32768 1" "16384 4"; do
    read -r p b <<<"$spec"
    for k in gqa_decode gqa_combine; do
      run "ncu-$k-p$p-b$b" 300 scripts/ncu-detail.sh build-gpu decode "$k" --prompt-len "$p" --gen-len 2 --batch "$b"
      grep -E "Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Registers Per|Block Limit|Stall|Warp Cycles Per Issued|Issue Slots Busy|Eligible Warps|L2 Hit|Shared Memory Configuration Size|Dynamic Shared|Static Shared" \
        "$out/ncu-$k-p$p-b$b.log" | head -40 | tee -a "$summary"
    done
  done
  exit 0
fi
if [[ "$mode" == decode ]]; then
  # Decode steps with launches overlapping the previous kernel (the default) and without, same build.
  for overlap in 1 0; do
    export SAMBAY_OVERLAP=$overlap
    bench "b1-p2k-overlap$overlap" --prompt-len 2048 --gen-len 128 --batch 1
    for p in 2048 16384 32768; do
      bench "b16-p$p-overlap$overlap" --prompt-len "$p" --gen-len 96 --batch 16 --no-ceilings
    done
  done
  unset SAMBAY_OVERLAP
  exit 0
fi

memcheck
[[ "$mode" == memcheck ]] && exit 0

bench b1-p2k "--prompt-len" 2048 --gen-len 128 --batch 1
bench b1-p32k --prompt-len 32768 --gen-len 64 --batch 1 --no-ceilings
bench b16-p32k --prompt-len 32768 --gen-len 96 --batch 16 --no-ceilings
# 16 sequences over the contexts a 2K -> 32K request passes through (the serving workload's steps).
for p in 2048 8192 16384; do
  bench "b16-p$p" --prompt-len "$p" --gen-len 96 --batch 16 --no-ceilings
done
# Per-op device time (timeline markers, no graphs) for a 2K and a 32K prompt and their decode steps.
for p in 2048 32768; do
  run "profile-p$p" 300 build-gpu/sambay bench --model models/phi4-mini-flash-reasoning --dummy --device cuda \
    --prompt-len "$p" --gen-len 8 --batch 1 --no-ceilings --profile
  grep -v "^info" "$out/profile-p$p.log" | head -40 | tee -a "$summary"
done

[[ "$mode" == bench ]] && exit 0
# Device time per kernel (Nsight Compute): 4 graph-replayed decode steps at 2K and at 32K context,
# one 2K prefill, and the scan / attention kernels' throughput against the SM and memory peaks.
run ncu-decode-2k 300 scripts/ncu-kernels.sh build-gpu decode --prompt-len 2048 --gen-len 4 --batch 1
cat "$out/ncu-decode-2k.log" | tee -a "$summary"
run ncu-decode-32k 300 scripts/ncu-kernels.sh build-gpu decode --prompt-len 32768 --gen-len 4 --batch 1
cat "$out/ncu-decode-32k.log" | tee -a "$summary"
run ncu-decode-b16-32k 300 scripts/ncu-kernels.sh build-gpu decode --prompt-len 32768 --gen-len 2 --batch 16
cat "$out/ncu-decode-b16-32k.log" | tee -a "$summary"
run ncu-decode-b16-16k 300 scripts/ncu-kernels.sh build-gpu decode --prompt-len 16384 --gen-len 2 --batch 16
cat "$out/ncu-decode-b16-16k.log" | tee -a "$summary"
run ncu-prefill-2k 300 scripts/ncu-kernels.sh build-gpu prefill --prompt-len 2048 --gen-len 1 --batch 1
cat "$out/ncu-prefill-2k.log" | tee -a "$summary"
run ncu-prefill-32k 300 scripts/ncu-kernels.sh build-gpu prefill --prompt-len 32768 --gen-len 1 --batch 1
cat "$out/ncu-prefill-32k.log" | tee -a "$summary"
