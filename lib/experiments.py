"""One experiment of a profile (benchmark x model x n x m): cached trainings on demand.

Every training is keyed by the exact settings that produce it (see
``lib.cache``), so notebooks ask for what they need and get what an earlier
notebook or an interrupted run already computed. Data and the model are built
lazily: a fully cached notebook never loads the dataset.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from lib.cache import cached, entry_path, lookup
from lib.data import TaskData, load_tasks
from lib.device import pick_device
from lib.models import build_model
from lib.paths import cache_dir
from lib.search import SearchResult, search_aid, search_id
from lib.subspace import (FlatModel, FullSpace, MultiTaskSubspace, Subspace, derive_seed, flat_model,
                          make_projector)
from lib.train import TrainSettings, train


class Experiment:
    """Lazily built data and model for ``cfg['experiments'][name]`` plus cached trainings."""

    def __init__(self, cfg: dict[str, Any], name: str, first_task: int = 0, **exp_overrides: Any):
        """``exp_overrides`` change n_tasks / m_train etc. of the experiment (e.g. Figure 1's n sweep);
        ``first_task`` > 0 selects tasks first_task .. first_task + n_tasks - 1 of the benchmark
        (held-out tasks for transfer: never seen by an experiment with n_tasks <= first_task)."""
        if name not in cfg["experiments"]:
            raise KeyError(f"unknown experiment '{name}'; this profile has: {', '.join(cfg['experiments'])}")
        self.cfg, self.name, self.first_task = cfg, name, first_task
        self.exp = {**cfg["experiments"][name], **exp_overrides}
        self.device = pick_device(cfg["device"])

    @cached_property
    def data(self) -> TaskData:
        if self.first_task == 0:
            return load_tasks(self.exp, self.cfg)
        stop = self.first_task + self.exp["n_tasks"]
        return load_tasks({**self.exp, "n_tasks": stop}, self.cfg).subset(slice(self.first_task, stop))

    @cached_property
    def model(self) -> FlatModel:
        module = build_model(self.exp["model"], self.data.input_shape, self.data.num_classes, self.model_seed)
        return flat_model(module, self.device)

    @property
    def model_seed(self) -> int:
        return derive_seed(self.cfg["seed"], "theta0", self.exp["model"]) % 2**31

    def base_spec(self) -> dict[str, Any]:
        """Everything about the experiment that any training result depends on."""
        train_cfg = {k: v for k, v in self.cfg["train"].items() if k not in ("lrs", "lr_full", "eval_batch_size")}
        exp = {k: self.exp[k] for k in ("benchmark", "model", "n_tasks", "m_train", "m_test")}
        if self.first_task:
            exp["first_task"] = self.first_task
        return {"seed": self.cfg["seed"], "experiment": exp, "train": train_cfg}

    def settings(self, lr: float, tag: str) -> TrainSettings:
        t = self.cfg["train"]
        return TrainSettings(t["epochs"], t["batch_size"], lr, t["weight_decay"], t["eval_batch_size"],
                             derive_seed(self.cfg["seed"], "train", tag) % 2**31, self.cfg["progress"],
                            amp=t["amp"])

    def cached_result(self, spec: dict[str, Any], compute) -> dict[str, Any]:
        return cached(cache_dir(self.cfg["profile"]), {**self.base_spec(), **spec}, compute)

    def entry(self, spec: dict[str, Any]) -> Path:
        """The cache file of a training spec (as passed to ``cached_result``)."""
        return entry_path(cache_dir(self.cfg["profile"]), {**self.base_spec(), **spec})

    def lookup(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        """The cached result of a training spec (as passed to ``cached_result``), None if not trained yet."""
        return lookup(cache_dir(self.cfg["profile"]), {**self.base_spec(), **spec})

    def projector_seed(self, kind: str, dim: int) -> int:
        return derive_seed(self.cfg["seed"], "projector", kind, dim) % 2**63

    def train_full(self) -> dict[str, Any]:
        """The ordinary full-parameter baseline (A in Definition 1); parameters are not kept."""
        lr = self.cfg["train"]["lr_full"]

        def compute() -> dict[str, Any]:
            param = FullSpace(self.model.theta0, self.data.n_tasks)
            result = train(self.model, param, self.data, self.settings(lr, "full"), f"{self.name} full")
            result.pop("params")
            return result
        return self.cached_result({"kind": "full", "lr": lr}, compute)

    def train_subspace(self, d: int, lr: float) -> dict[str, Any]:
        """Single-task subspace training, theta_j = theta_0 + P w_j, all tasks in one loop."""
        def compute() -> dict[str, Any]:
            projector = make_projector(self.model.D, d, self.projector_seed("single", d), self.device)
            param = Subspace(self.model.theta0, projector, self.data.n_tasks)
            return train(self.model, param, self.data, self.settings(lr, f"single-{d}"), f"{self.name} d={d}")
        return self.cached_result({"kind": "subspace", "d": d, "lr": lr}, compute)

    def best_subspace(self, d: int) -> dict[str, Any]:
        """The best of the profile's learning rates at dimension ``d`` (by mean test accuracy)."""
        runs = [{**self.train_subspace(d, lr), "lr": lr} for lr in self.cfg["train"]["lrs"]]
        return max(runs, key=lambda r: r["mean_test_acc"])

    def train_multitask(self, l: int, k: int, lr: float) -> dict[str, Any]:
        """Multi-task training theta_j = theta_0 + Q alpha_j, Q = [P_1 v_1 ... P_k v_k] (Eqs. 2-3)."""
        grids = self.cfg["multitask"]
        if l not in grids["l_grid"] or k not in grids["k_grid"]:
            raise ValueError(f"(l, k) = ({l}, {k}) is outside the profile's grids: l in {grids['l_grid']}, "
                             f"k in {grids['k_grid']}")

        def compute() -> dict[str, Any]:
            projector = make_projector(self.model.D, k * l, self.projector_seed("multi", k * l), self.device)
            param = MultiTaskSubspace(self.model.theta0, projector, self.data.n_tasks, l, k)
            return train(self.model, param, self.data, self.settings(lr, f"multi-{l}-{k}"),
                         f"{self.name} l={l} k={k}")
        return self.cached_result({"kind": "multitask", "l": l, "k": k, "lr": lr}, compute)

    def best_multitask(self, l: int, k: int) -> dict[str, Any]:
        """The best of the profile's learning rates at (l, k) (by mean test accuracy)."""
        runs = [{**self.train_multitask(l, k, lr), "lr": lr} for lr in self.cfg["train"]["lrs"]]
        return max(runs, key=lambda r: r["mean_test_acc"])

    def target_accuracy(self) -> float:
        """acc_90: the experiment's fixed target, else acc_factor x the full model's mean test accuracy."""
        if self.exp["target_acc"] is not None:
            return float(self.exp["target_acc"])
        return self.cfg["intrinsic_dim"]["acc_factor"] * self.train_full()["mean_test_acc"]


def id_sweep(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """Notebook 01: full baseline, accuracy at every d of the grid, and ID_90 (smallest d reaching the target)."""
    exp = Experiment(cfg, name)
    full = exp.train_full()
    target = exp.target_accuracy()
    grid = sorted(cfg["intrinsic_dim"]["d_grid"])
    runs = [exp.best_subspace(d) for d in grid]
    reached = [d for d, r in zip(grid, runs) if r["mean_test_acc"] >= target]
    return {
        "experiment": name,
        "benchmark": exp.exp["benchmark"],
        "model": exp.exp["model"],
        "D": exp.model.D,
        "n_tasks": exp.exp["n_tasks"],
        "m_train": exp.exp["m_train"],
        "full_test_acc": full["mean_test_acc"],
        "full_train_acc": full["mean_train_acc"],
        "target_acc": target,
        "d_grid": grid,
        "test_acc": [r["mean_test_acc"] for r in runs],
        "train_acc": [r["mean_train_acc"] for r in runs],
        "lr": [r["lr"] for r in runs],
        "id90": reached[0] if reached else None,
        "best_acc": max(r["mean_test_acc"] for r in runs),
    }


def _search_summary(result: SearchResult, n_lrs: int) -> dict[str, Any]:
    return {
        "reached": result.reached,
        "best": list(result.best) if result.best else None,
        "value": result.best_value,
        "acc": result.best_acc,
        "evaluated": [[*point, acc] for point, acc in sorted(result.evaluated.items())],
        "n_points": result.n_evaluated,
        "n_trainings": result.n_evaluated * n_lrs,
        "message": result.message(),
    }


Oracle = Callable[[tuple[int, ...]], float]


def id_search_of(cfg: dict[str, Any], target: float) -> Callable[[Oracle], SearchResult]:
    """The ID_90 search of a profile as a function of an accuracy oracle on points ``(d,)``.

    Notebooks pass an oracle that trains; ``lib.sweep`` one that reads the cache, so
    both run the very same search.
    """
    return lambda acc: search_id(lambda d: acc((d,)), cfg["intrinsic_dim"]["d_grid"], target)


def aid_search_of(cfg: dict[str, Any], n: int, target: float) -> Callable[[Oracle], SearchResult]:
    """The AID_90 search of a profile (n tasks) as a function of an accuracy oracle on points ``(l, k)``."""
    grids = cfg["multitask"]
    return lambda acc: search_aid(lambda l, k: acc((l, k)), grids["l_grid"], grids["k_grid"], n, target)


def aid_search(cfg: dict[str, Any], name: str, target: float | None = None, with_id: bool = True,
               **exp_overrides: Any) -> dict[str, Any]:
    """Notebook 02/03: ID_90 and AID_90 of one experiment by structured search (see lib.search).

    ``target`` defaults to the experiment's acc_90; pass one to compare settings at a common target.
    ``exp_overrides`` change the experiment (e.g. ``n_tasks`` for Figure 1).
    """
    exp = Experiment(cfg, name, **exp_overrides)
    n = exp.exp["n_tasks"]
    target = exp.target_accuracy() if target is None else target
    lrs = cfg["train"]["lrs"]
    id_res = (id_search_of(cfg, target)(lambda p: exp.best_subspace(*p)["mean_test_acc"]) if with_id else None)
    aid_res = aid_search_of(cfg, n, target)(lambda p: exp.best_multitask(*p)["mean_test_acc"])
    winner = None
    if aid_res.reached:
        l, k = aid_res.best
        winner = {"l": l, "k": k, "lr": exp.best_multitask(l, k)["lr"]}
    k_grid = cfg["multitask"]["k_grid"]
    id90 = id_res.best_value if id_res is not None else None
    return {
        "experiment": name, "benchmark": exp.exp["benchmark"], "model": exp.exp["model"],
        "n_tasks": n, "m_train": exp.exp["m_train"], "D": exp.model.D, "target_acc": target,
        "id": _search_summary(id_res, len(lrs)) if id_res is not None else None,
        "aid": _search_summary(aid_res, len(lrs)),
        "winner": winner,
        "exhaustive_points": len(cfg["multitask"]["l_grid"]) * len(k_grid),
        "exhaustive_trainings": len(cfg["multitask"]["l_grid"]) * len(k_grid) * len(lrs),
        "aid_below_id": bool(aid_res.reached and id90 is not None and aid_res.best_value < id90),
    }


def aid_vs_tasks(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """Notebook 03 (Figure 1): AID_90 as the number of tasks n grows, at one common target.

    The target is acc_90 of the largest n (the experiment's fixed target_acc if set); ID_90 at that
    target is measured once, at the largest n (single-task learning does not depend on n), and gives
    the two extremes of Section 3: identical tasks ID/n + 1, unrelated tasks ID + n.
    """
    sweep = cfg["aid_vs_tasks"]
    ns = sorted(sweep["n_values"])
    largest = Experiment(cfg, name, n_tasks=ns[-1], m_train=sweep["m_train"])
    target = largest.target_accuracy()
    points = [aid_search(cfg, name, target=target, with_id=(n == ns[-1]), n_tasks=n, m_train=sweep["m_train"])
              for n in ns]
    id_summary = points[-1]["id"]
    return {
        "experiment": name, "m_train": sweep["m_train"], "target_acc": target, "n_values": ns,
        "aid90": [p["aid"]["value"] for p in points],
        "lk": [p["aid"]["best"] for p in points],
        "id90": id_summary["value"],
        "n_trainings": sum(p["aid"]["n_trainings"] for p in points) + id_summary["n_trainings"],
        "points": points,
    }
