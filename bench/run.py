"""Run every benchmark, write ``outputs/bench/bench.json`` and ``bench.md``, print the table."""
from __future__ import annotations

import json
import platform
import time

import torch

from bench import multitask_throughput, search_cost
from lib.paths import output_dir
from lib.report import markdown_table

BENCHMARKS = {
    "multitask_throughput": (multitask_throughput.run, "multi-task samples/s / plain-network samples/s", ">="),
    "search_cost": (search_cost.run, "search trainings / exhaustive grid trainings (worst case)", "<="),
}


def main() -> None:
    out = output_dir("bench")
    results = {"machine": platform.platform(), "torch": torch.__version__, "threads": torch.get_num_threads(),
               "date": time.strftime("%Y-%m-%d %H:%M"), "benchmarks": {}}
    rows = []
    for name, (fn, what, sense) in BENCHMARKS.items():
        res = fn()
        results["benchmarks"][name] = res
        met = res["ratio"] >= res["target"] if sense == ">=" else res["ratio"] <= res["target"]
        rows.append([name, what, res["ratio"], f"{sense} {res['target']}", "met" if met else "MISSED"])
    table = markdown_table(["benchmark", "ratio", "measured", "target", "status"], rows)
    (out / "bench.json").write_text(json.dumps(results, indent=2))
    (out / "bench.md").write_text(f"# Benchmarks ({results['date']}, {results['machine']}, torch {results['torch']})\n\n"
                                  + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
