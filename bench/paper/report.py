#!/usr/bin/env python3
"""The paper's throughput experiment for both models, from recorded runs: a markdown table and two PNG
plots (throughput against concurrency; latency against generated length, from each request's token
timeline in the load generator's JSON).

Usage: bench/paper/report.py bench/paper/runs.json OUT_DIR
Needs Python 3 with matplotlib (Debian: python3-matplotlib).

runs.json lists, per model, the served runs (one `sambay loadgen --json` file per concurrency) and the
steady-state engine runs at the largest concurrency its memory allows (`sambay bench --zero-context
--json` lines at several contexts). A request of the workload decodes through every context from its
prompt length to prompt + generated tokens; at a fixed batch the step time is measured at those
contexts and interpolated linearly between them, so one request's decode time is the integral of the
step time over its contexts. The steady-state throughput is batch x E[generated] / E[decode time] over
the workload's length distribution (uniform, as the load generator draws it). It leaves out prefill
and the start and end of a run, which the served runs include.

A model's optional "bytes" entry (weights, per_sequence, per_position: what one decode step reads, from
`sambay bench --json`'s decode_bytes_per_step at two contexts) with the top-level "copy_gb_per_second"
gives each served row its bandwidth floor: C clients decoding in lockstep read the weights once per
step and each sequence's state and K/V at its context, so the floor is C x E[generated] / E[time].

An optional "long_prompt" entry lists served runs of the 32K-prompt / 500-generated workload per
model; they go into a second table, long_prompt.md.
"""
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def interp(xs, ys, x):
    """Linear interpolation, extrapolated from the end segments."""
    pts = sorted(zip(xs, ys))
    if len(pts) == 1:
        return pts[0][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x <= x1 or (x1, y1) == pts[-1]:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pts[-1][1]


def integrate(f, a, b, n=256):
    h = (b - a) / n
    return h * (0.5 * f(a) + sum(f(a + i * h) for i in range(1, n)) + 0.5 * f(b))


def uniform_grid(lo, hi, n=9):
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def workload_lengths(workload):
    """(prompt, generated) pairs on a grid over the workload's uniform length ranges."""
    p_lo, p_hi = workload["prompt_len_range"]
    g_lo, g_hi = workload["gen_len_range"]
    return [(p, g) for p in uniform_grid(p_lo, p_hi, 3) for g in uniform_grid(g_lo, g_hi)]


def steady_state(runs, workload):
    """Aggregate decode tok/s at the runs' batch over the workload's lengths, and the floor at the
    copy bandwidth (every byte of decode_bytes_per_step once per step)."""
    batch = runs[0]["batch"]
    ctx = [r["prompt_len"] + r["gen_len"] / 2 for r in runs]  # the mean context of each timed decode
    step_s = [1.0 / r["decode_tokens_per_second_per_sequence"] for r in runs]
    floor_s = [r["decode_bytes_per_step"] / (r["ceiling_copy_gb_per_second"] * 1e9) for r in runs]
    tokens = time = floor_time = 0.0
    for p, g in workload_lengths(workload):
        tokens += g
        time += integrate(lambda c: interp(ctx, step_s, c), p, p + g)
        floor_time += integrate(lambda c: interp(ctx, floor_s, c), p, p + g)
    return batch, batch * tokens / time, batch * tokens / floor_time


def served_floor(bytes_, gb_per_second, concurrency, workload):
    """Generated tok/s if every byte a decode step reads streamed at the copy bandwidth: C requests in
    lockstep over the workload's (uniform) prompt and generation lengths."""
    bw = gb_per_second * 1e9
    tokens = time = 0.0
    for p, g in workload_lengths(workload):
        mean_ctx = p + g / 2  # a step's bytes grow linearly with the context
        step = bytes_["weights"] + concurrency * (bytes_["per_sequence"] + bytes_["per_position"] * mean_ctx)
        tokens += concurrency * g
        time += g * step / bw
    return tokens / time


def served_row(path):
    j = json.load(open(path))
    ok = [r for r in j["requests"] if r["ok"]]
    lat = sorted(r["latency_s"] for r in ok)
    p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
    return {
        "concurrency": j["load"]["concurrency"],
        "throughput": j["summary"]["decode_throughput"],
        "completed": len(ok),
        "lat_mean": statistics.mean(lat),
        "lat_p50": statistics.median(lat),
        "lat_p99": p99,
        "timelines": [r.get("timeline") or [[r["completion_tokens"], r["latency_s"]]] for r in ok],
    }


def long_prompt_table(spec, root, names):
    """The 32K-prompt / 500-generated runs: throughput, latency and time to first token per
    concurrency, and the ratio of the two models' throughputs."""
    lp = spec["long_prompt"]
    models = spec["models"]
    rows = {}
    for m in names:
        for path in lp["served"].get(m, []):
            j = json.load(open(os.path.join(root, path)))
            r = served_row(os.path.join(root, path))
            r["ttft"] = j["summary"]["ttft_s"]["mean"]
            rows.setdefault(r["concurrency"], {})[m] = r
    base, flash = names[1], names[0]
    lines = [f"{lp['title']}\n",
             "| concurrency | " + " | ".join(f"{models[m]['label']} tok/s (latency mean / p50 / p99 s; TTFT mean s)"
                                            for m in names) + " | flash / Phi-4-mini |",
             "|---|" + "---|" * len(names) + "---|"]
    for c in sorted(rows):
        cells = []
        for m in names:
            r = rows[c].get(m)
            cells.append(f"{r['throughput']:,.0f} ({r['lat_mean']:.1f} / {r['lat_p50']:.1f} / {r['lat_p99']:.1f}; "
                         f"{r['ttft']:.2f})" if r else "not run")
        ratio = (f"{rows[c][flash]['throughput'] / rows[c][base]['throughput']:.2f}x"
                 if flash in rows[c] and base in rows[c] else "")
        lines.append(f"| {c} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines) + "\n"


def main():
    spec_path, out = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.abspath(spec_path))
    spec = json.load(open(spec_path))
    os.makedirs(out, exist_ok=True)
    models = spec["models"]
    served = {m: sorted((served_row(os.path.join(root, p)) for p in v.get("served", [])),
                        key=lambda r: r["concurrency"]) for m, v in models.items()}
    steady = {}
    for m, v in models.items():
        if v.get("steady"):
            runs = [r for p in v["steady"] for r in load_jsonl(os.path.join(root, p))]
            steady[m] = steady_state(runs, spec["workload"])

    names = list(models)
    base, flash = names[1], names[0]  # Phi-4-mini first in the ratio's denominator
    floors = spec.get("copy_gb_per_second") and all(models[m].get("bytes") for m in names)
    floor_head = " | bandwidth floors, flash / Phi-4-mini (ratio)" if floors else ""
    lines = ["| concurrency | " + " | ".join(f"{models[m]['label']} tok/s (mean / p50 / p99 latency s)" for m in names) +
             " | flash / Phi-4-mini" + floor_head + " |", "|---|" + "---|" * (len(names) + 1 + bool(floors))]
    concs = sorted({r["concurrency"] for m in names for r in served[m]})
    for c in concs:
        cells, tps = [], {}
        for m in names:
            row = next((r for r in served[m] if r["concurrency"] == c), None)
            if row:
                tps[m] = row["throughput"]
                cells.append(f"{row['throughput']:,.0f} ({row['lat_mean']:.0f} / {row['lat_p50']:.0f} / {row['lat_p99']:.0f})")
            elif m in steady and c > steady[m][0]:
                cells.append(f"does not fit (at most {steady[m][0]} of the longest requests)")
            else:
                cells.append("not run")
        ratio = f"{tps[flash] / tps[base]:.2f}x" if flash in tps and base in tps else ""
        floor_cell = ""
        if floors:
            # No floor where the model's memory cannot hold C requests at full length.
            f = {m: served_floor(models[m]["bytes"], spec["copy_gb_per_second"], c, spec["workload"])
                 for m in names if not (m in steady and c > steady[m][0])}
            text = {m: f"{f[m]:,.0f}" if m in f else "—" for m in names}
            both = f" ({f[flash] / f[base]:.2f}x)" if flash in f and base in f else ""
            floor_cell = f" | {text[flash]} / {text[base]}{both}"
        lines.append(f"| {c} | " + " | ".join(cells) + f" | {ratio}{floor_cell} |")
    if steady:
        cells = []
        for m in names:
            if m in steady:
                b, tps, floor = steady[m]
                cells.append(f"{tps:,.0f} at {b} sequences, steady state (floor {floor:,.0f})")
            else:
                cells.append("not run")
        ratio = f"{steady[flash][1] / steady[base][1]:.2f}x" if flash in steady and base in steady else ""
        lines.append("| largest that fits | " + " | ".join(cells) + f" | {ratio}" + (" | |" if floors else " |"))
    table = "\n".join(lines) + "\n"
    open(os.path.join(out, "table.md"), "w").write(table)
    print(table)
    if spec.get("long_prompt") and any(spec["long_prompt"]["served"].values()):
        long_table = long_prompt_table(spec, root, names)
        open(os.path.join(out, "long_prompt.md"), "w").write(long_table)
        print(long_table)

    fig, ax = plt.subplots(figsize=(6, 4))
    for m in names:
        xs = [r["concurrency"] for r in served[m]]
        ys = [r["throughput"] for r in served[m]]
        ax.plot(xs, ys, "o-", label=models[m]["label"] + " (served)")
        if m in steady:
            ax.plot([steady[m][0]], [steady[m][1]], "s", label=models[m]["label"] + " (steady state, largest batch)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("generated tok/s")
    ax.set_title(spec["title"], fontsize=8, wrap=True)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "throughput.png"), dpi=120)

    # Each request's time from being sent to its n-th generated token, every request of every run.
    fig, ax = plt.subplots(figsize=(6, 4))
    styles = ["-", "--", ":", "-."]
    for mi, m in enumerate(names):
        for ri, r in enumerate(served[m]):
            color = f"C{mi * 4 + ri}"
            c = r["concurrency"]
            label = f"{models[m]['label']}, {c} client{'s' if c > 1 else ''}"
            for k, tl in enumerate(r["timelines"]):
                style = styles[mi % len(styles)] if len(tl) > 1 else "o"  # runs recorded before timelines: end points
                ax.plot([p[0] for p in tl], [p[1] for p in tl], style, color=color, lw=1, ms=3, alpha=0.6,
                        label=label if k == 0 else None)
    ax.set_xlabel("generated tokens")
    ax.set_ylabel("latency since the request was sent (s)")
    ax.set_title(spec["title"], fontsize=8, wrap=True)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "latency.png"), dpi=120)


if __name__ == "__main__":
    main()
