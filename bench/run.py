"""Run every benchmark, write ``outputs/bench/bench.json`` and ``bench.md``, print the tables.

Each figure is a ratio of two things measured side by side in this one run
(medians of repeats), so machine speed cancels out; the machine, torch version
and thread count are recorded with them. A missed target stays in the table as
MISSED, with what limits it.
"""
from __future__ import annotations

import json
import platform
import time

import torch

from bench import multitask_throughput, peak_memory, projector, search_cost
from lib.device import tune_cpu_allocator
from lib.paths import output_dir
from lib.report import markdown_table

# name -> (run, what the ratio is, sense of the target, what limits it if missed)
BENCHMARKS = {
    "projector": (projector.run, "straightforward Kronecker time / ours (fwd+bwd, worst of the two sizes)", ">=",
                  "both must do the same n*D*b multiply-adds into the same n*D outputs (each entry of the rank-b "
                  "product needs b); ours saves only the per-vector loop, copies and padding, small next to that "
                  "at large D"),
    "multitask_throughput": (multitask_throughput.run, "multi-task samples/s / plain-network samples/s", ">=",
                             "grouped-convolution backward in oneDNN is slower per sample than the plain one"),
    "search_cost": (search_cost.run, "search trainings / exhaustive grid trainings (worst case)", "<=",
                    "the bisection needs log2(|l grid|) points per k"),
    "peak_memory": (peak_memory.run, "multi-task / plain-network peak step memory at n = 100", "<=",
                    "per-task weight copies beyond theta_j and its gradient"),
}


def _met(res: dict, sense: str) -> bool:
    return res["ratio"] >= res["target"] if sense == ">=" else res["ratio"] <= res["target"]


def _details(results: dict) -> str:
    """Per-size tables behind the headline ratios."""
    parts = []
    proj = results["benchmarks"].get("projector")
    if proj:
        rows = [[r["size"], f"{r['D']:,}", r["d"], r["n_vectors"], r["ms"]["ours"], r["ms"]["straightforward"],
                 r["ms"].get("dense", r["dense"]), r["speedup_vs_straightforward"], f"{r['max_abs_diff']:.1e}"]
                for r in proj["rows"]]
        parts.append("## Projector, forward + backward (ms)\n\n" + markdown_table(
            ["size", "D", "d", "vectors", "ours", "straightforward", "dense P", "speed-up", "max |diff|"], rows))
        rows = [[f"{r['D']:,}", r["n_tasks"], r["l"], r["k"], r["ms"]["ours"], r["ms"]["straightforward"],
                 r["speedup_vs_straightforward"], f"{r['max_abs_diff']:.1e}"] for r in proj["multitask_rows"]]
        parts.append("## Multi-task weights theta_0 + Q' u_j, forward + backward (ms)\n\n" + markdown_table(
            ["D", "tasks", "l", "k", "ours", "per-task projection", "speed-up", "max |diff|"], rows))
    thr = results["benchmarks"].get("multitask_throughput")
    if thr:
        parts.append("## Training throughput (samples/s)\n\n" + markdown_table(
            ["tasks", "batch/task", "plain (default layout)", "plain (channels_last)", "multi-task", "ratio"],
            [[thr["n_tasks"], thr["batch_per_task"], thr["plain_samples_per_s"],
              thr["plain_channels_last_samples_per_s"], thr["multitask_samples_per_s"], thr["ratio"]]]))
    mem = results["benchmarks"].get("peak_memory")
    if mem:
        rows = [[r["n"], r["multitask_MiB"], r["plain_MiB"], r["ratio"]] for r in mem["rows"]]
        parts.append("## Peak step memory (MiB above the model and data)\n\n" + markdown_table(
            ["tasks", "multi-task", "plain", "ratio"], rows)
            + f"\n\nPer task: multi-task {mem['slope_multitask_MiB_per_task']} MiB, plain "
              f"{mem['slope_plain_MiB_per_task']} MiB, difference {mem['extra_MiB_per_task']} MiB "
              f"(one weight copy is {mem['weight_copy_MiB']} MiB).")
    return "\n\n".join(parts)


def main() -> None:
    out = output_dir("bench")
    start = time.time()
    results = {"machine": platform.platform(), "processor": platform.processor() or platform.machine(),
               "torch": torch.__version__, "threads": torch.get_num_threads(),
               "cpu_allocator_tuned": tune_cpu_allocator(), "date": time.strftime("%Y-%m-%d %H:%M"),
               "benchmarks": {}}
    rows = []
    for name, (fn, what, sense, limit) in BENCHMARKS.items():
        print(f"[{time.time() - start:6.1f}s] {name} ...", flush=True)
        res = fn()
        results["benchmarks"][name] = res
        met = _met(res, sense)
        rows.append([name, what, res["ratio"], f"{sense} {res['target']}", "met" if met else "MISSED",
                     "" if met else limit])
    results["seconds"] = round(time.time() - start, 1)
    table = markdown_table(["benchmark", "ratio", "measured", "target", "status", "limited by"], rows)
    header = (f"# Benchmarks ({results['date']}, {results['machine']}, torch {results['torch']}, "
              f"{results['threads']} threads, {results['seconds']} s)\n\n")
    (out / "bench.json").write_text(json.dumps(results, indent=2))
    (out / "bench.md").write_text(header + table + "\n\n" + _details(results) + "\n")
    print(table)
    print(f"\nwritten: {out / 'bench.md'}, {out / 'bench.json'}")


if __name__ == "__main__":
    main()
