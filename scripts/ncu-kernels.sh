#!/usr/bin/env bash
# Device time per kernel name for one phase of `sambay bench` (graph-replayed decode included),
# measured with Nsight Compute. Usage: [MODEL=folder] scripts/ncu-kernels.sh BUILD_DIR prefill|decode BENCH_ARGS...
# (default model: models/phi4-mini-flash-reasoning)
set -euo pipefail
build=$1 phase=$2
shift 2
csv=$(mktemp)
ncu --profile-from-start off --cache-control none --clock-control none --metrics gpu__time_duration.sum --csv --page raw \
  "$build/sambay" bench --model "${MODEL:-models/phi4-mini-flash-reasoning}" --dummy --device cuda --no-ceilings \
  --profile-range "$phase" "$@" >"$csv" 2>/dev/null || true
python3 - "$csv" <<'PY'
import csv, sys, collections, re
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 5]
head = rows[0]
name_i, dur_i = head.index("Kernel Name"), head.index("gpu__time_duration.sum")
tot, cnt = collections.Counter(), collections.Counter()
for r in rows[2:]:
    try:
        d = float(r[dur_i].replace(",", ""))
    except ValueError:
        continue
    n = re.sub(r"\(.*", "", r[name_i]).replace("(anonymous namespace)::", "")[:70]
    tot[n] += d; cnt[n] += 1
all_ns = sum(tot.values())
print(f"{'kernel':<72}{'calls':>7}{'us total':>11}{'us/call':>9}{'share':>7}")
for n, d in tot.most_common(25):
    print(f"{n:<72}{cnt[n]:>7}{d/1e3:>11.1f}{d/1e3/cnt[n]:>9.2f}{100*d/all_ns:>6.1f}%")
print(f"total {all_ns/1e3:.1f} us in {sum(cnt.values())} kernels")
PY
