"""Where independent jobs run: in this process (default) or through ``submitit`` (SLURM, or local subprocesses).

Both executors have one method, ``map(fn, items, names)``, that returns the
results in order or raises :class:`JobsFailedError`. A submitit job that dies
(killed, timed out, preempted, or raised) is resubmitted up to ``retries`` times;
one that still has no result is named in the error with the reason and the path
of its log -- a sweep never silently misses a job. Results of the sweep's jobs
live in the config-hash cache (``lib.cache``), which the jobs write themselves,
so what the executor returns is only a small summary.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from tqdm.auto import tqdm



class JobsFailedError(RuntimeError):
    """Some jobs produced no result after all retries; the message lists them."""

    def __init__(self, failures: dict[str, str]):
        self.failures = failures
        lines = "\n".join(f"  {name}: {reason}" for name, reason in failures.items())
        super().__init__(f"{len(failures)} job(s) failed after all retries:\n{lines}")


class Executor(Protocol):
    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], names: Sequence[str]) -> list[Any]: ...


class InProcessExecutor:
    """Runs the jobs one after the other in this process (what the notebooks do anyway)."""

    def __init__(self, progress: bool = True):
        self.progress = progress

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], names: Sequence[str]) -> list[Any]:
        out = []
        for item in tqdm(items, desc="jobs", disable=not self.progress, leave=False):
            out.append(fn(item))
        return out


class SubmititExecutor:
    """Jobs as SLURM jobs (``cluster='slurm'``) or local subprocesses (``cluster='local'``) via submitit.

    ``parameters`` are submitit's generic ones (``timeout_min``, ``gpus_per_node``,
    ``cpus_per_task``, ``mem_gb``) plus ``slurm_*`` ones (``slurm_partition``, ...).
    At most ``max_parallel`` jobs are in flight at a time (SLURM: one array with that throttle).
    """

    def __init__(self, folder: Path, cluster: str, parameters: dict[str, Any], retries: int = 2,
                 max_parallel: int = 64, poll_s: float = 1.0, progress: bool = True):
        import submitit

        if cluster not in ("local", "slurm"):
            raise ValueError(f"submitit cluster must be 'local' or 'slurm', got '{cluster}'")
        self.folder, self.cluster = Path(folder), cluster
        try:
            self.executor = submitit.AutoExecutor(folder=str(self.folder / "%j"), cluster=cluster)
        except RuntimeError as err:  # submitit looks for srun
            raise RuntimeError(f"executor: {cluster} needs a SLURM cluster (submitit: {err}); "
                               "use executor=local or inprocess here") from err
        self.executor.update_parameters(**{k: v for k, v in parameters.items() if v is not None})
        self.retries, self.max_parallel, self.poll_s, self.progress = retries, max_parallel, poll_s, progress
        self.attempts: dict[str, int] = {}

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], names: Sequence[str]) -> list[Any]:
        from submitit.core.utils import UncompletedJobError

        results: dict[int, Any] = {}
        failures: dict[int, str] = {}
        todo = list(range(len(items)))
        bar = tqdm(total=len(items), desc="jobs", disable=not self.progress, leave=False)
        for attempt in range(self.retries + 1):
            failures = {}
            # SLURM throttles one array itself (slurm_array_parallelism); local processes start at once
            size = len(todo) if self.cluster == "slurm" else self.max_parallel
            for start in range(0, len(todo), size):
                chunk = todo[start: start + size]
                with self.executor.batch():  # one SLURM job array per chunk
                    jobs = [self.executor.submit(fn, items[i]) for i in chunk]
                if self.cluster == "local":  # a local disk needs no grace period for a dead job's result file
                    for job in jobs:
                        job._results_timeout_s = 1
                for i in chunk:
                    self.attempts[names[i]] = attempt + 1
                while not all(job.done() for job in jobs):
                    time.sleep(self.poll_s)
                for i, job in zip(chunk, jobs):
                    try:
                        results[i] = job.result()
                        bar.update()
                    except UncompletedJobError as err:  # killed, timed out, or the function raised
                        head = " ".join(str(err).strip().splitlines()[:2]) or type(err).__name__
                        failures[i] = f"{head} (attempt {attempt + 1}; log: {job.paths.stderr})"
            if failures and attempt < self.retries:
                print(f"{len(failures)} job(s) failed; resubmitting (retry {attempt + 1} of {self.retries})",
                      file=sys.stderr, flush=True)
            todo = sorted(failures)
            if not todo:
                break
        bar.close()
        if failures:
            raise JobsFailedError({names[i]: reason for i, reason in failures.items()})
        return [results[i] for i in range(len(items))]


def make_executor(cfg: dict[str, Any], folder: Path) -> Executor:
    """The profile's executor: ``executor: inprocess | local | slurm`` with the ``cluster`` section."""
    kind = cfg["executor"]
    if kind == "inprocess":
        return InProcessExecutor(progress=cfg["progress"])
    c = cfg["cluster"]
    parameters = {"timeout_min": c["time_min"], "gpus_per_node": c["gpus_per_job"],
                  "cpus_per_task": c["cpus_per_job"], "mem_gb": c["mem_gb"], "name": f"mtl-{cfg['profile']}"}
    if kind == "slurm":
        parameters["slurm_partition"] = c["partition"]
        parameters["slurm_array_parallelism"] = c["max_parallel"]
    return SubmititExecutor(folder, kind, parameters, retries=c["retries"], max_parallel=c["max_parallel"],
                            progress=cfg["progress"])
