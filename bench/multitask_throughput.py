"""Multi-task subspace training throughput vs one plain network on the same batches.

Both sides do full Adam steps on the same data: n tasks x B examples per step.
The plain side is one ordinary ``nn.Module`` (D weights) fed all n*B examples as
one batch, in the default and in the channels_last layout (the faster is the
baseline); the multi-task side computes theta_j = theta_0 + Q alpha_j for every
task (the Kronecker projection of the basis included) and runs all n networks'
forward/backward at once (``FlatModel.forward_tasks``: grouped convolutions). Reported: samples/s of each and their ratio (the
issue's goal is >= 0.8), median over repeats, measured alternately in one run.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from lib.models import build_model
from lib.subspace import MultiTaskSubspace, flat_model, make_projector
from lib.train import _per_task_loss


def _plain_step_fn(n: int, batch: int, shape: tuple[int, ...], classes: int, channels_last: bool = False):
    model = build_model("mnist_convnet", shape, classes, seed=0)
    x = torch.randn(n * batch, *shape)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)
    y = torch.randint(0, classes, (n * batch,))

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def _multitask_step_fn(n: int, batch: int, shape: tuple[int, ...], classes: int, l: int, k: int):
    fm = flat_model(build_model("mnist_convnet", shape, classes, seed=0))
    param = MultiTaskSubspace(fm.theta0, make_projector(fm.D, k * l, 0), n, l, k)
    params = {key: v.requires_grad_(True) for key, v in param.init_params(0).items()}
    opt = torch.optim.Adam(params.values(), lr=1e-3, weight_decay=5e-4)
    x = torch.randn(n, batch, *shape)
    y = torch.randint(0, classes, (n, batch))

    def step() -> None:
        loss = _per_task_loss(fm.forward_tasks(param.thetas(params), x), y).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def _rate(step, samples: int, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return samples * steps / (time.perf_counter() - start)


def run(n: int = 30, batch: int = 32, l: int = 100, k: int = 10, steps: int = 20, repeats: int = 5) -> dict:
    shape, classes = (1, 28, 28), 10
    plain = _plain_step_fn(n, batch, shape, classes)
    plain_cl = _plain_step_fn(n, batch, shape, classes, channels_last=True)
    multi = _multitask_step_fn(n, batch, shape, classes, l, k)
    for fn in (plain, plain_cl, multi):  # warm-up
        _rate(fn, n * batch, 3)
    rates: dict[str, list[float]] = {"plain": [], "plain_cl": [], "multi": []}
    for _ in range(repeats):
        for key, fn in (("plain", plain), ("plain_cl", plain_cl), ("multi", multi)):
            rates[key].append(_rate(fn, n * batch, steps))
    p, pcl, m = (statistics.median(rates[key]) for key in ("plain", "plain_cl", "multi"))
    baseline = max(p, pcl)  # compare against the faster plain network (default or channels_last layout)
    return {
        "benchmark": "multitask_throughput", "n_tasks": n, "batch_per_task": batch, "l": l, "k": k,
        "plain_samples_per_s": round(p), "plain_channels_last_samples_per_s": round(pcl),
        "multitask_samples_per_s": round(m), "ratio": round(m / baseline, 3),
        "ratio_vs_default_layout": round(m / p, 3),
        "target": 0.8, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "machine": platform.machine(), "processor": platform.processor() or platform.platform(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(n=args.n, repeats=args.repeats), indent=2))
