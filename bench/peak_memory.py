"""Peak memory of one multi-task training step as the number of tasks n grows (10, 30, 100).

Each measurement runs in a fresh subprocess: set up model, optimiser and batch,
read the resident set size, take three steps, read the peak (``VmHWM``); the
figure is peak minus the RSS before the steps, i.e. what training needs on top of
the model and the data (optimiser state included). Two workloads per n, fed the same
n x B images:

* ``multitask``: theta_j = theta_0 + Q alpha_j for all n tasks, grouped forward/backward (``lib.train``);
* ``plain``: one ordinary network on all n*B images -- pure batch activations, one weight vector.

The issue's requirement is that memory grows with n * (batch activations), not
with extra per-task copies of the D weights: reported are the per-task slope of
both (least squares over n), the multi-task slope minus the plain slope next to
the size of one weight copy (4 D bytes; for this D it is below the resolution of
RSS measurements), and the ratio multi-task / plain at the largest n (target <= 1.5).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import torch

from bench.multitask_throughput import _multitask_step_fn, _plain_step_fn
from lib.device import tune_cpu_allocator

SHAPE, CLASSES, L, K, BATCH = (1, 28, 28), 10, 100, 10, 32


def _status_bytes(field: str) -> int:
    """``VmRSS`` / ``VmHWM`` of this process from /proc (``ru_maxrss`` would include the parent's
    peak: it survives fork + exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    """Reset the high-water mark to the current RSS (Linux >= 4.0); harmless if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def worker(kind: str, n: int) -> dict:
    """One measurement (run in its own process so peaks do not mix)."""
    tune_cpu_allocator()
    step = (_multitask_step_fn(n, BATCH, SHAPE, CLASSES, L, K) if kind == "multitask"
            else _plain_step_fn(n, BATCH, SHAPE, CLASSES, channels_last=True))
    before = _status_bytes("VmRSS")
    _reset_peak()
    for _ in range(3):
        step()
    peak = _status_bytes("VmHWM")
    return {"kind": kind, "n": n, "step_peak_bytes": max(peak - before, 0)}


def _measure(kind: str, n: int) -> int:
    out = subprocess.run([sys.executable, "-m", "bench.peak_memory", "--worker", kind, str(n)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["step_peak_bytes"]


def _slope(xs: list[int], ys: list[int]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def run(ns: tuple[int, ...] = (10, 30, 100)) -> dict:
    from lib.models import build_model

    D = sum(p.numel() for p in build_model("mnist_convnet", SHAPE, CLASSES, seed=0).parameters())
    mib = 2 ** 20
    multi = [_measure("multitask", n) for n in ns]
    plain = [_measure("plain", n) for n in ns]
    s_multi, s_plain = _slope(list(ns), multi), _slope(list(ns), plain)
    ratio = multi[-1] / plain[-1]
    return {
        "benchmark": "peak_memory", "D": D, "batch_per_task": BATCH, "l": L, "k": K,
        "rows": [{"n": n, "multitask_MiB": round(m / mib, 1), "plain_MiB": round(p / mib, 1),
                  "ratio": round(m / p, 2)} for n, m, p in zip(ns, multi, plain)],
        "slope_multitask_MiB_per_task": round(s_multi / mib, 2),
        "slope_plain_MiB_per_task": round(s_plain / mib, 2),
        "extra_MiB_per_task": round((s_multi - s_plain) / mib, 2), "weight_copy_MiB": round(4 * D / mib, 3),
        "ratio": round(ratio, 2), "target": 1.5, "torch": torch.__version__,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "N"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
    else:
        print(json.dumps(run(), indent=2))
