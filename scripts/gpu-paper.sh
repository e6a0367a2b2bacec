#!/usr/bin/env bash
# The paper experiment's runs on a GPU machine, one after another, each into OUT_DIR/RUN/ (the
# load generator's JSON, the server log, /metrics, a summary); at the end every run's folder is packed
# into OUT_DIR/runs.tar.gz as well, for hosts that bring back only a few files.
# Usage: scripts/gpu-paper.sh OUT_DIR RUN...
#   RUN: MODEL-cC     2K -> 32K workload, C clients, C requests (one wave)    e.g. phi4-c4, flash-c16
#        MODEL-long   32K -> 500 workload, 16 clients, 32 requests
#        MODEL-steady steady-state decode at the largest batch the memory holds (scripts/gpu-steady.sh)
#   MODEL: phi4 (models/phi4-mini-instruct) or flash (models/phi4-mini-flash-reasoning)
# A served run of the 2K -> 32K workload takes 2.5 (flash, 1 client) to 7 minutes (Phi-4-mini, 4).
set -uo pipefail
out=${1:?output dir}
shift
[[ $# -gt 0 ]] || { echo "no runs given" >&2; exit 2; }
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)

model_dir() {
  case $1 in
    phi4) echo models/phi4-mini-instruct ;;
    flash) echo models/phi4-mini-flash-reasoning ;;
    *) return 1 ;;
  esac
}

status=0
for run in "$@"; do
  model=$(model_dir "${run%%-*}") || { echo "unknown model in run '$run'" >&2; status=2; continue; }
  kind=${run#*-}
  dir="$out/$run"
  echo "== $(date -u +%T) $run" | tee -a "$out/summary.txt"
  case $kind in
    c[0-9]*)
      c=${kind#c}
      MODEL=$model "$here/gpu-serve-bench.sh" "$dir" --workload paper-2k-32k --concurrency "$c" --requests "$c" ;;
    long)
      MODEL=$model "$here/gpu-serve-bench.sh" "$dir" --workload long-prompt --concurrency 16 --requests 32 ;;
    steady)
      "$here/gpu-steady.sh" "$dir" "$model" ;;
    *)
      echo "unknown run '$run'" >&2
      status=2
      continue ;;
  esac
  rc=$?
  [[ $rc -eq 0 ]] || status=1
  tail -3 "$dir/summary.txt" 2>/dev/null | tee -a "$out/summary.txt"
  echo "== $(date -u +%T) $run exit $rc" | tee -a "$out/summary.txt"
done
(cd "$out" && tar -czf runs.tar.gz --exclude=runs.tar.gz --exclude=summary.txt -- */ 2>/dev/null)
exit $status
