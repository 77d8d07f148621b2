"""The headless runner fails fast and clearly on bad input, before any notebook runs."""
import subprocess

import pytest

from lib import run
from lib.paths import ROOT


@pytest.mark.parametrize("argv,message", [
    (["nosuch"], "unknown profile 'nosuch'"),
    (["smoke", "train.epoch=3"], "unknown key 'train.epoch'"),
    (["smoke", "-p", "experiments.fashion_sp.benchmark=imagenet"], "unknown benchmark 'imagenet'"),
    (["smoke", "experiments.fashion_sp.benchmark=mnist_sp", "data_dir=/nonexistent/dir"],
     "mnist: could not find train-images-idx3-ubyte.gz"),
    (["smoke", "experiments.fashion_sp.n_tasks=100", "experiments.fashion_sp.m_train=1000"],
     "100 (+5 held-out transfer tasks) x 1000 needs 105000 examples"),
])
def test_bad_input_exits_nonzero_with_message(argv, message, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(run, "output_dir", lambda profile: tmp_path)
    assert run.main(argv) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "nothing is written when validation fails"


def test_overrides_from_both_styles_are_merged():
    args = run.parse_args(["smoke", "train.epochs=2", "-p", "seed=3"])
    assert args.profile == "smoke" and args.overrides + args.extra == ["train.epochs=2", "seed=3"]


def test_notebooks_are_numbered_in_order():
    names = [p.name for p in run.notebooks()]
    assert names and names == sorted(names) and names[0].startswith("01_")


def test_run_all_sh_rejects_unknown_profile():
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("run_all.sh sets up .venv first; this test runs inside ./run_all.sh test")
    proc = subprocess.run([str(ROOT / "run_all.sh"), "nosuch"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "unknown profile 'nosuch'" in proc.stderr


def test_failing_notebook_stops_the_run_and_is_marked_failed(tmp_path, monkeypatch, capsys):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell('profile = "smoke"\noverrides = []', metadata={"tags": ["parameters"]}),
                             new_code_cell("raise RuntimeError('boom in cell two')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "01_fails.ipynb"
    nbformat.write(nb, path)
    later = tmp_path / "02_never.ipynb"
    nbformat.write(nb, later)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(run, "notebooks", lambda only=None: [path, later])
    monkeypatch.setattr(run, "output_dir", lambda profile: out)
    assert run.main(["smoke"]) == 1
    err = capsys.readouterr().err
    assert "notebook 01_fails.ipynb failed" in err and "boom in cell two" in err
    assert (out / "01_fails.failed.ipynb").is_file() and not (out / "01_fails.ipynb").exists()
    assert not (out / "02_never.ipynb").exists(), "the run stops at the first failure"
    status = __import__("json").loads((out / "run_status.json").read_text())
    assert status["status"] == "failed" and status["failed"] == "01_fails.ipynb"
