"""Train everything a profile's searches need as independent jobs, on any executor, into the shared cache.

``./run_all.sh sweep PROFILE`` (``python -m lib.sweep``) does what notebooks 01-03
would do one training at a time, but hands the trainings to an executor
(``lib.executors``: in-process, local subprocesses, or SLURM via submitit):

1. the full-parameter baselines and every (d, lr) of the intrinsic-dimension grid
   (notebook 01), plus the baselines that set Figure 1's target -- all independent;
2. the ID_90 / AID_90 searches of notebooks 02 and 03 in rounds: each round asks
   every search which points it will need next (``lib.search.speculate``, looking
   ``cluster.lookahead`` questions ahead), trains all of them (x every lr) at once,
   and repeats until every search can finish from the cache.

Each job calls the same ``Experiment`` method a notebook calls, so it writes the
same config-hash cache entry; ``./run_all.sh PROFILE`` afterwards trains nothing
that the sweep covered (tested). The compression and transfer trainings of
notebooks 04-08 are few and sequential; they run with the notebooks.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import torch

from lib.experiments import Experiment, aid_search_of, id_search_of
from lib.executors import Executor, JobsFailedError, make_executor
from lib.paths import output_dir
from lib.search import speculate


@dataclass(frozen=True)
class Job:
    """One training: an experiment (with overrides such as Figure 1's n), a kind and its arguments.

    ``{"kind": kind, **args}`` is exactly the spec the ``Experiment.train_*`` method caches under.
    """

    experiment: str
    overrides: tuple[tuple[str, Any], ...]
    kind: str  # "full" | "subspace" | "multitask"
    args: tuple[tuple[str, Any], ...]

    @property
    def name(self) -> str:
        over = ",".join(f"{k}={v}" for k, v in self.overrides)
        args = " ".join(f"{k}={v}" for k, v in self.args)
        return f"{self.experiment}{f'[{over}]' if over else ''} {self.kind} {args}"

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, **dict(self.args)}


def run_job(cfg: dict[str, Any], job: Job) -> dict[str, Any]:
    """Train (or load) one job's result through the notebooks' own code path; return a small summary.

    In a submitit job process torch gets ``cluster.cpus_per_job`` threads (its default is
    every core of the node, which oversubscribes a node shared by several jobs).
    """
    if os.environ.get("SUBMITIT_EXECUTOR"):
        torch.set_num_threads(cfg["cluster"]["cpus_per_job"])
    exp = Experiment(cfg, job.experiment, **dict(job.overrides))
    args = dict(job.args)
    if job.kind == "full":
        result = exp.train_full()
    elif job.kind == "subspace":
        result = exp.train_subspace(args["d"], args["lr"])
    elif job.kind == "multitask":
        result = exp.train_multitask(args["l"], args["k"], args["lr"])
    else:
        raise ValueError(f"unknown job kind '{job.kind}'")
    return {"job": job.name, "mean_test_acc": result["mean_test_acc"]}


@dataclass
class _Search:
    """One ID or AID search of notebook 02/03, replayable with any accuracy oracle."""

    experiment: str
    overrides: tuple[tuple[str, Any], ...]
    kind: str  # "subspace" (ID) or "multitask" (AID)
    target: float
    run: Callable[[Callable[[tuple[int, ...]], float]], object]

    def jobs(self, point: tuple[int, ...], lrs: list[float]) -> list[Job]:
        keys = ("d",) if self.kind == "subspace" else ("l", "k")
        return [Job(self.experiment, self.overrides, self.kind, (*zip(keys, point), ("lr", lr))) for lr in lrs]


class Sweep:
    """The trainings of one profile (optionally some experiments only), run in rounds on an executor."""

    def __init__(self, cfg: dict[str, Any], executor: Executor, only: list[str] | None = None):
        self.cfg, self.executor = cfg, executor
        names = list(cfg["experiments"])
        unknown = sorted(set(only or []) - set(names))
        if unknown:
            raise KeyError(f"unknown experiment(s) {', '.join(unknown)}; this profile has: {', '.join(names)}")
        self.names = [n for n in names if only is None or n in only]
        self.lrs = cfg["train"]["lrs"]
        self.log: list[dict[str, Any]] = []
        self._known: dict[tuple, float] = {}  # measured accuracies (never change), so replays read no files

    def _experiment(self, name: str, overrides: tuple[tuple[str, Any], ...]) -> Experiment:
        return Experiment(self.cfg, name, **dict(overrides))

    def _distinct(self, jobs: list[Job]) -> tuple[list[Job], int]:
        """Jobs with distinct cache entries (Figure 1's largest n may equal the experiment itself) that
        are not cached yet, and the number already cached."""
        todo, seen, cached = [], set(), 0
        for job in jobs:
            entry = self._experiment(job.experiment, job.overrides).entry(job.spec())
            if entry in seen:
                continue
            seen.add(entry)
            if entry.is_file():
                cached += 1
            else:
                todo.append(job)
        return todo, cached

    def _round(self, label: str, jobs: list[Job]) -> None:
        todo, cached = self._distinct(jobs)
        start = time.time()
        print(f"sweep {label}: {len(todo)} training(s) to run, {cached} cached", flush=True)
        if todo:
            self.executor.map(partial(run_job, self.cfg), todo, [job.name for job in todo])
        self.log.append({"round": label, "jobs": len(todo), "cached": cached, "seconds": round(time.time() - start, 1)})

    def _accuracy(self, search: _Search, point: tuple[int, ...]) -> float | None:
        """Best accuracy over the lrs at ``point`` if all are cached, else None."""
        key = (search.experiment, search.overrides, search.kind, point)
        if key not in self._known:
            exp = self._experiment(search.experiment, search.overrides)
            results = [exp.lookup(job.spec()) for job in search.jobs(point, self.lrs)]
            if any(r is None for r in results):
                return None
            self._known[key] = max(r["mean_test_acc"] for r in results)
        return self._known[key]

    def _figure1(self) -> tuple[tuple[tuple[str, Any], ...], list[tuple[str, tuple[tuple[str, Any], ...]]]]:
        sweep = self.cfg["aid_vs_tasks"]
        ns = sorted(sweep["n_values"])
        largest = (("n_tasks", ns[-1]), ("m_train", sweep["m_train"]))
        points = [(name, (("n_tasks", n), ("m_train", sweep["m_train"])))
                  for name in sweep["experiments"] if name in self.names for n in ns]
        return largest, points

    def baseline_jobs(self) -> list[Job]:
        """Round 0: full baselines and the whole d grid (notebook 01), Figure 1's baselines."""
        jobs = []
        for name in self.names:
            jobs.append(Job(name, (), "full", (("lr", self.cfg["train"]["lr_full"]),)))
            jobs += [Job(name, (), "subspace", (("d", d), ("lr", lr)))
                     for d in sorted(self.cfg["intrinsic_dim"]["d_grid"]) for lr in self.lrs]
        largest, points = self._figure1()
        for name in {name for name, _ in points}:
            if self.cfg["experiments"][name]["target_acc"] is None:
                jobs.append(Job(name, largest, "full", (("lr", self.cfg["train"]["lr_full"]),)))
        return jobs

    def searches(self) -> list[_Search]:
        """The searches of notebooks 02 and 03 (targets need round 0's baselines)."""
        out = []

        def add(name: str, overrides: tuple[tuple[str, Any], ...], target: float, with_id: bool) -> None:
            n = dict(overrides).get("n_tasks", self.cfg["experiments"][name]["n_tasks"])
            out.append(_Search(name, overrides, "multitask", target, aid_search_of(self.cfg, n, target)))
            if with_id:
                out.append(_Search(name, overrides, "subspace", target, id_search_of(self.cfg, target)))

        for name in self.names:
            add(name, (), self._experiment(name, ()).target_accuracy(), with_id=False)  # d grid: round 0
        largest, points = self._figure1()
        for name, overrides in points:
            target = self._experiment(name, largest).target_accuracy()
            add(name, overrides, target, with_id=overrides == largest)
        return out

    def run(self) -> dict[str, Any]:
        start = time.time()
        self._round("round 0 (baselines, d grid)", self.baseline_jobs())
        searches = self.searches()
        depth = self.cfg["cluster"]["lookahead"]
        for number in range(1, 10_000):
            jobs = [job for s in searches
                    for point in speculate(s.run, partial(self._accuracy, s), s.target, depth)
                    for job in s.jobs(point, self.lrs)]
            if not jobs:
                break
            self._round(f"search round {number}", jobs)
        return {"profile": self.cfg["profile"], "experiments": self.names, "executor": self.cfg["executor"],
                "lookahead": depth, "rounds": self.log, "trainings": sum(r["jobs"] for r in self.log),
                "seconds": round(time.time() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    from lib.config import ConfigError
    from lib.data import DataNotFoundError, TaskSizeError
    from lib.run import check

    parser = argparse.ArgumentParser(prog="run_all.sh sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", nargs="?", default="cpu")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. executor=slurm")
    parser.add_argument("-p", dest="extra", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--only", action="append", default=None, metavar="EXPERIMENT",
                        help="sweep only this experiment (may repeat)")
    args = parser.parse_intermixed_args(sys.argv[1:] if argv is None else argv)
    try:
        cfg = check(args.profile, list(args.overrides) + list(args.extra))
    except (ConfigError, DataNotFoundError, TaskSizeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = output_dir(args.profile)
    status_path = out / "sweep_status.json"
    try:
        sweep = Sweep(cfg, make_executor(cfg, out / "jobs"), args.only)
    except (KeyError, RuntimeError) as err:  # unknown --only experiment; slurm without a cluster
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    try:
        summary = sweep.run()
    except JobsFailedError as err:
        status_path.write_text(json.dumps({"status": "failed", "failures": err.failures, "rounds": sweep.log},
                                          indent=2))
        print(f"error: {err}", file=sys.stderr)
        return 1
    status_path.write_text(json.dumps({"status": "complete", **summary}, indent=2))
    print(f"sweep complete: {summary['trainings']} trainings in {summary['seconds']} s; "
          f"now `./run_all.sh {args.profile}` reuses them", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
