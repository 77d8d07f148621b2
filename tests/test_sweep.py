"""Sweeps through submitit: real subprocesses (local executor), retries, reports, SLURM submission files."""
import os
import signal
import stat
import sys
from pathlib import Path

import cloudpickle
import pytest
import torch

import lib.experiments as experiments
from lib import config
from lib.executors import JobsFailedError, SubmititExecutor, make_executor
from lib.sweep import Job, Sweep, run_job

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the job processes cannot import this file


def _die_once(marker: str) -> int:
    """Killed (SIGKILL, no chance to report) on the first attempt, fine on the second."""
    if not Path(marker).exists():
        Path(marker).write_text("attempted")
        os.kill(os.getpid(), signal.SIGKILL)
    return 42


def _always_die(_: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


def _local(tmp_path: Path, retries: int) -> SubmititExecutor:
    return SubmititExecutor(tmp_path / "jobs", "local", {"timeout_min": 5}, retries=retries, max_parallel=2,
                            poll_s=0.2, progress=False)


def test_local_executor_retries_a_killed_job(tmp_path):
    ex = _local(tmp_path, retries=1)
    out = ex.map(_die_once, [str(tmp_path / "marker")], ["flaky job"])
    assert out == [42] and ex.attempts["flaky job"] == 2


def test_a_job_that_keeps_dying_is_reported_by_name_not_missing(tmp_path):
    ex = _local(tmp_path, retries=1)
    with pytest.raises(JobsFailedError, match=r"(?s)1 job\(s\) failed.*doomed job: .*no.* output.*attempt 2") as err:
        ex.map(_always_die, [0], ["doomed job"])
    assert list(err.value.failures) == ["doomed job"]


# A small smoke sweep: one experiment, two points per grid, two Figure 1 sizes, one epoch.
SMALL = ["executor=local", "train.epochs=1", "intrinsic_dim.d_grid=[10, 200]", "multitask.l_grid=[10, 50]",
         "multitask.k_grid=[2, 5]", "aid_vs_tasks.n_values=[5, 10]", "cluster.lookahead=3"]


def test_local_sweep_covers_notebooks_01_to_03_and_matches_in_process_training(tmp_path, monkeypatch):
    monkeypatch.setenv("MTL_OUTPUTS", str(tmp_path / "outputs"))  # inherited by the job processes
    cfg = config.load("smoke", SMALL)
    ex = make_executor(cfg, tmp_path / "jobs")
    assert isinstance(ex, SubmititExecutor)
    ex.poll_s = 0.2
    summary = Sweep(cfg, ex, only=["fashion_sp"]).run()
    assert summary["trainings"] > 0 and summary["rounds"][0]["jobs"] == 3  # full + two d's

    def no_training(*args, **kwargs):
        raise AssertionError("the sweep missed a training the notebooks need")

    monkeypatch.setattr(experiments, "train", no_training)
    assert experiments.id_sweep(cfg, "fashion_sp")["test_acc"]
    assert experiments.aid_search(cfg, "fashion_sp")["aid"]["n_points"] > 0
    assert len(experiments.aid_vs_tasks(cfg, "fashion_sp")["aid90"]) == 2
    assert Sweep(cfg, ex, only=["fashion_sp"]).run()["trainings"] == 0  # a second sweep: all cached
    monkeypatch.undo()

    # a job process computes exactly what this process computes
    monkeypatch.setenv("MTL_OUTPUTS", str(tmp_path / "elsewhere"))
    job = Job("fashion_sp", (), "subspace", (("d", 10), ("lr", cfg["train"]["lrs"][0])))
    here = run_job(cfg, job)
    monkeypatch.setenv("MTL_OUTPUTS", str(tmp_path / "outputs"))
    there = experiments.Experiment(cfg, "fashion_sp").lookup(job.spec())
    assert here["mean_test_acc"] == there["mean_test_acc"]
    monkeypatch.setenv("MTL_OUTPUTS", str(tmp_path / "elsewhere"))
    mine = experiments.Experiment(cfg, "fashion_sp").lookup(job.spec())
    assert torch.equal(mine["params"]["w"], there["params"]["w"])


def _fake_slurm(bin_dir: Path, log: Path) -> None:
    """``srun`` / ``sbatch`` stand-ins: sbatch records the submission file and answers like SLURM."""
    bin_dir.mkdir()
    scripts = {"srun": "#!/bin/sh\nexit 0\n",
               "sbatch": f'#!/bin/sh\nfor a in "$@"; do last="$a"; done\ncat "$last" >> {log}\n'
                         'echo "Submitted batch job 4242"\n'}
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_slurm_executor_writes_partition_time_and_gpus_into_the_submission(tmp_path, monkeypatch):
    log = tmp_path / "submitted.sh"
    _fake_slurm(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    cfg = config.load("paper", ["executor=slurm", "cluster.partition=gpu-long", "cluster.time_min=90"])
    ex = make_executor(cfg, tmp_path / "jobs")
    with ex.executor.batch():
        ex.executor.submit(run_job, cfg, Job("mnist_sp", (), "full", (("lr", 0.001),)))
        ex.executor.submit(run_job, cfg, Job("mnist_sp", (), "subspace", (("d", 10), ("lr", 0.1))))
    text = log.read_text()
    for line in ("#SBATCH --partition=gpu-long", "#SBATCH --time=90", "#SBATCH --gpus-per-node=1",
                 "#SBATCH --cpus-per-task=4", "#SBATCH --array=0-1%2"):
        assert line in text, f"{line!r} not in the submission file:\n{text}"


def test_slurm_without_a_cluster_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no srun anywhere
    cfg = config.load("smoke", ["executor=slurm"])
    with pytest.raises(RuntimeError, match="executor: slurm needs a SLURM cluster"):
        make_executor(cfg, tmp_path / "jobs")


def test_sweep_command_fails_in_one_line_on_bad_input(tmp_path, monkeypatch, capsys):
    from lib import sweep

    monkeypatch.setenv("MTL_OUTPUTS", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no srun
    assert sweep.main(["smoke", "--only", "nope"]) == 2
    assert "unknown experiment(s) nope" in capsys.readouterr().err
    assert sweep.main(["smoke", "executor=slurm"]) == 2
    assert "needs a SLURM cluster" in capsys.readouterr().err
    assert sweep.main(["smoke", "cluster.retries=-1"]) == 2
