"""Joins the figures of one driver run (`benches/run.sh`) into one table.

Reads the JSON lines that the Rust suite (`benches/benches/suite/`) and
`bench.py` appended to one file, and prints, per workload, every side's median
(min–max) with the ratio of our thread backend's and our process backend's
median over it: below 1 we are faster (smaller), except for speedups, where
above 1 we are better.

    python3 benches/python/report.py RESULTS.jsonl
"""

import json
import sys

ORDER = [
    "start_join", "apply", "map_10k", "map_1m", "map_10k_chunksize_1", "cpu_speedup",
    "submit", "executor_map", "queue_1", "queue_2", "simple_queue_1", "simple_queue_2",
    "lock_uncontended", "lock_contended", "event_ping_pong", "barrier", "pool_create",
    "apply_bytes_1m", "echo_bytes_1m", "apply_bytes_16m", "echo_bytes_16m", "apply_bytes_64m",
    "echo_bytes_64m", "queue_bytes_16m", "apply_shared_1m", "echo_shared_1m", "apply_shared_16m",
    "echo_shared_16m", "apply_shared_64m", "echo_shared_64m", "queue_shared_16m",
    "pool_create_8", "memory_rss_2", "memory_rss_extra", "memory_pss_2", "memory_pss_extra",
]
GROUPS = ["rust-threads", "rust-processes", "python"]
OURS = {"rust-threads": "freethreading (threads)", "rust-processes": "freethreading (processes)"}


def show(unit, value):
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "KiB":
        return f"{value / 1024:.1f} MiB"
    if value < 1e-6:
        return f"{value * 1e9:.0f} ns"
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def ratio(ours, it):
    if ours is None or "median" not in ours or "median" not in it or it is ours:
        return "—"
    r = ours["median"] / it["median"]
    shown = f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"
    # The spread of the ratio over the passes where both sides have a figure.
    per_pass = [ours["passes"][p] / it["passes"][p] for p in ours["passes"] if p in it["passes"]]
    if len(per_pass) > 1:
        shown += f" ({min(per_pass):.2f}–{max(per_pass):.2f})"
    return shown


def merge(records):
    """One row per (group, key, side): with several passes (`run.sh --passes N`),
    the median of the passes' medians, and their min–max as the spread."""
    rows = {}
    for r in records:
        rows.setdefault((r["group"], r["key"], r["side"]), []).append(r)
    merged = []
    for same in rows.values():
        row = dict(same[0])
        figures = [r for r in same if "median" in r]
        row["passes"] = {r.get("pass", i): r["median"] for i, r in enumerate(figures)}
        if len(figures) > 1:
            medians = sorted(r["median"] for r in figures)
            row.update(median=medians[len(medians) // 2], min=medians[0], max=medians[-1])
            row["spread"] = len(figures)
        elif figures:
            row = dict(figures[0], passes=row["passes"])
        merged.append(row)
    return merged


def main(path):
    with open(path, encoding="utf-8") as f:
        records = merge([json.loads(line) for line in f if line.strip()])
    by_key = {}
    for r in records:
        by_key.setdefault(r["key"], []).append(r)
    keys = [k for k in ORDER if k in by_key] + sorted(set(by_key) - set(ORDER))
    print("| workload | implementation | median (min–max; with passes, of their medians) "
          "| ours threads ÷ it | ours processes ÷ it |")
    print("|---|---|---|---|---|")
    for key in keys:
        rows = sorted(by_key[key], key=lambda r: GROUPS.index(r["group"]) if r["group"] in GROUPS else 99)
        ours = {g: next((r for r in rows if r["group"] == g and r["side"] == side), None)
                for g, side in OURS.items()}
        label = rows[0]["label"]
        for r in rows:
            if "median" in r:
                shown = f"{show(r['unit'], r['median'])} ({show(r['unit'], r['min'])}–{show(r['unit'], r['max'])})"
                if r.get("spread"):
                    shown += f", {r['spread']} passes"
            else:
                shown = f"n/a ({r['na']})"
            print(f"| {label} | {r['side']} | {shown} | "
                  f"{ratio(ours['rust-threads'], r)} | {ratio(ours['rust-processes'], r)} |")
            label = ""  # the workload's name once, on its first row
    variants(by_key, keys)


def variants(by_key, keys):
    """Our process backend's other sides of a workload (the same call with
    its clone made before the timer, say) against the workload's floors and
    Python's rows, so that each of our ways has its ratios from the same runs."""
    lines = []
    for key in keys:
        rows = by_key[key]
        ours = [r for r in rows if r["group"] == "rust-processes"
                and r["side"].startswith(OURS["rust-processes"] + ",")]
        others = [r for r in rows if "(floor)" in r["side"] or r["group"] == "python"]
        for v in ours:
            for r in others:
                lines.append(f"| {v['label']} | {v['side']} | {r['side']} | {ratio(v, r)} |")
    if lines:
        print()
        print("| workload | our side | against | ratio (min–max across passes) |")
        print("|---|---|---|---|")
        print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
