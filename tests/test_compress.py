"""Quantise -> encode -> decode -> bound on a tiny real experiment; transfer; report generation."""
import numpy as np
import pytest
import torch

from lib import compress, config, report, results, transfer
from lib.experiments import Experiment

TINY = ["experiments.fashion_sp.n_tasks=3", "experiments.fashion_sp.m_train=60", "experiments.fashion_sp.m_test=50",
        "train.epochs=1", "intrinsic_dim.d_grid=[10, 40]", "multitask.l_grid=[5, 10]", "multitask.k_grid=[1, 2]",
        "compression.single_r_grid=[2, 3]", "compression.r_g_grid=[3]", "compression.r_l_grid=[2, 3]",
        "transfer.n_tasks=2", "transfer.kprime_grid=[0, 5]", "transfer.experiments=[fashion_sp]"]


@pytest.fixture(scope="module")
def tiny_cfg(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setattr("lib.experiments.cache_dir", lambda profile: cache)
    yield config.load("smoke", TINY)
    mp.undo()


def test_single_task_code_decodes_to_the_evaluated_model(tiny_cfg):
    exp = Experiment(tiny_cfg, "fashion_sp")
    run = compress.compress_single(exp, 40, 0.03, 3)
    assert len(run["bits"]) == 3 and all(b > 0 for b in run["bits"])
    header = 1 + 0 + 1  # d: 2 choices, lr: 1, r: 2 choices
    assert run["breakdown"]["header"] == header
    assert run["breakdown"]["w.codebook"] == 3 * 16
    for risk, bound in zip(run["risks"], run["bounds"]):
        assert 0 <= risk <= bound <= 1


def test_multitask_codes_decode_exactly_and_bounds_are_ordered(tiny_cfg):
    exp = Experiment(tiny_cfg, "fashion_sp")
    run = compress.compress_multitask(exp, 10, 2, 0.03, 3, 2)
    dec = compress.decode_multitask(run["meta_bytes"], run["task_bytes"], tiny_cfg, 3)
    assert np.array_equal(dec["V"], run["V_values"].numpy())
    assert np.array_equal(dec["alpha"], run["alpha_values"].numpy())
    assert len(np.unique(dec["V"])) <= 3 and len(np.unique(dec["alpha"])) <= 2
    assert run["risk"] <= run["thm3"] <= run["pinsker"]
    assert run["thm2"] <= run["pinsker"]
    assert run["meta_bits"] == sum(v for key, v in run["breakdown"].items() if not key.startswith("tasks."))


def test_transfer_at_zero_reproduces_theta0_and_heldout_tasks_are_new(tiny_cfg):
    main = Experiment(tiny_cfg, "fashion_sp")
    held = transfer.heldout_experiment(tiny_cfg, "fashion_sp")
    assert held.first_task == 3 and held.data.n_tasks == 2
    basis = torch.randn(2, main.model.D)
    param = transfer._transfer_param(main, held, basis, 5)
    thetas = param.thetas(param.init_params(0))
    torch.testing.assert_close(thetas, main.model.theta0.expand(2, -1))
    # held-out tasks are tasks 3 and 4 of the same construction, with training images no training task has
    both = Experiment(tiny_cfg, "fashion_sp", n_tasks=5).data
    assert torch.equal(both.x_train[3:], held.data.x_train)
    main_rows = {tuple(np.sort(x.numpy().ravel())[::37]) for x in main.data.x_train.reshape(-1, 28 * 28)}
    held_rows = {tuple(np.sort(x.numpy().ravel())[::37]) for x in held.data.x_train.reshape(-1, 28 * 28)}
    assert not main_rows & held_rows


def test_transfer_study_end_to_end(tiny_cfg):
    study = transfer.transfer_study(tiny_cfg, "fashion_sp")
    assert study["n_heldout"] == 2 and len(study["transfer"]["bounds"]) == 2
    for j, choice in enumerate(study["transfer"]["choice"]):
        options = [c for c in study["candidates"] if c["kprime"] == choice["kprime"] and c["option"] == choice["codebook"]]
        assert len(options) == 1
    assert all(0 <= b <= 1 for b in study["transfer"]["bounds"] + study["no_transfer"]["bounds"])


def test_report_fails_clearly_without_results(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "results_dir", lambda profile: tmp_path)
    with pytest.raises(FileNotFoundError, match="run notebook 01_intrinsic_dim for profile 'nope' first"):
        report.write_report("nope")
