"""Training loops: all n tasks in one forward/backward per step.

Whatever the parametrisation (full weights, one random subspace, or the
multi-task basis), a step computes the weights of every task as one ``(n, D)``
tensor and evaluates all tasks with a single vmapped functional forward. The
loss is the *sum over tasks* of each task's mean cross-entropy: then each task's
private parameters get exactly the gradient they would get if trained alone
(a mean over tasks would rescale it by 1/n and change the balance with Adam's
weight decay).

On the CPU the loop is deterministic for a given seed: parameters are
initialised from the seed and task j draws its minibatches from its own
generator (seed, j), so a task sees the same batches alone or among others.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from lib.data import TaskData
from lib.device import autocast, exact_numerics
from lib.subspace import FlatModel, Parametrisation, derive_seed


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    eval_batch_size: int
    seed: int
    progress: bool = False
    optimizer: str = "adam"  # "adam" or "sgd" (the paper's quantisation-aware fine-tuning)
    amp: bool = False  # bf16 autocast for the training steps only (evaluation is always exact fp32)


def _per_task_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each task: logits (n, B, C), y (n, B) -> (n,)."""
    n, b, c = logits.shape
    return F.cross_entropy(logits.reshape(n * b, c), y.reshape(n * b), reduction="none").view(n, b).mean(1)


@torch.no_grad()
@exact_numerics()
def evaluate(fm: FlatModel, thetas: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
             batch_size: int) -> dict[str, list[float]]:
    """Per-task accuracy and mean loss of weights ``thetas`` (n, D) on ``x`` (n, N, ...), ``y`` (n, N).

    Always in exact fp32 (see ``lib.device.exact_numerics``): these numbers are the bounds' inputs.
    """
    device = thetas.device
    n, total = y.shape
    correct = torch.zeros(n, dtype=torch.float64, device=device)
    loss = torch.zeros(n, dtype=torch.float64, device=device)
    for start in range(0, total, batch_size):
        xb = x[:, start: start + batch_size].to(device, thetas.dtype)
        yb = y[:, start: start + batch_size].to(device)
        logits = fm.forward_tasks(thetas, xb)
        correct += (logits.argmax(-1) == yb).sum(1)
        loss += _per_task_loss(logits, yb).double() * yb.shape[1]
    return {"acc": (correct / total).tolist(), "loss": (loss / total).tolist()}


def train(fm: FlatModel, param: Parametrisation, data: TaskData, settings: TrainSettings,
          desc: str = "train") -> dict[str, Any]:
    """Train ``param``'s parameters on all tasks of ``data`` with Adam; return metrics and parameters.

    Returns plain data: ``params`` (trained tensors on the CPU), per-task
    ``train_acc``/``test_acc``/``train_loss``/``test_loss`` lists, their means, and
    ``history`` (mean training loss per epoch).
    """
    device = fm.theta0.device
    params = {k: v.detach().clone().requires_grad_(True) for k, v in param.init_params(settings.seed).items()}
    optimizers = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
    if settings.optimizer not in optimizers:
        raise ValueError(f"optimizer must be one of {', '.join(optimizers)}, got '{settings.optimizer}'")
    opt = optimizers[settings.optimizer](params.values(), lr=settings.lr, weight_decay=settings.weight_decay)
    x_train = data.x_train.to(device, fm.theta0.dtype)
    y_train = data.y_train.to(device)
    n, m = y_train.shape
    rows = torch.arange(n, device=device)[:, None]
    gens = [torch.Generator().manual_seed(derive_seed(settings.seed, "batches", j)) for j in range(n)]
    steps = math.ceil(m / settings.batch_size)
    history = []
    bar = tqdm(total=settings.epochs * steps, desc=desc, disable=not settings.progress, leave=False)
    for _ in range(settings.epochs):
        order = torch.stack([torch.randperm(m, generator=g) for g in gens]).to(device)
        epoch_loss = torch.zeros((), device=device)
        for start in range(0, m, settings.batch_size):
            idx = order[:, start: start + settings.batch_size]
            thetas = param.thetas(params)  # the weights themselves always in fp32
            with autocast(device, settings.amp):
                logits = fm.forward_tasks(thetas, x_train[rows, idx])
            loss = _per_task_loss(logits.float(), y_train[rows, idx]).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            epoch_loss += loss.detach() * idx.shape[1]
            bar.update()
        history.append(float(epoch_loss) / (m * n))
    bar.close()
    return summarise(fm, param, {k: v.detach() for k, v in params.items()}, data, settings.eval_batch_size,
                     history)


def summarise(fm: FlatModel, param: Parametrisation, params: dict[str, torch.Tensor], data: TaskData,
              eval_batch_size: int, history: list[float] | None = None) -> dict[str, Any]:
    """Evaluate trained parameters on train and test data of every task; plain-data result."""
    with torch.no_grad(), exact_numerics():
        thetas = param.thetas(params)
    tr = evaluate(fm, thetas, data.x_train, data.y_train, eval_batch_size)
    te = evaluate(fm, thetas, data.x_test, data.y_test, eval_batch_size)
    return {
        "params": {k: v.cpu() for k, v in params.items()},
        "train_acc": tr["acc"], "train_loss": tr["loss"],
        "test_acc": te["acc"], "test_loss": te["loss"],
        "mean_train_acc": sum(tr["acc"]) / len(tr["acc"]),
        "mean_test_acc": sum(te["acc"]) / len(te["acc"]),
        "history": history or [],
    }
