"""Multi-task parametrisation: one-hot alphas reduce it to single-task learning with own projector blocks;
the cached experiment API rejects nonsensical settings; the search matches the grid on a real run."""
from dataclasses import dataclass

import pytest
import torch

from lib import config
from lib.experiments import Experiment
from lib.models import build_model
from lib.search import exhaustive_aid, search_aid
from lib.subspace import MultiTaskSubspace, Subspace, flat_model, make_projector
from lib.train import TrainSettings, train
from test_train import _blobs


@dataclass(frozen=True)
class DenseProjector:
    """A projector given as an explicit D x d matrix (here: one block P_j of Q')."""

    matrix: torch.Tensor

    @property
    def d(self) -> int:
        return self.matrix.shape[1]

    def __call__(self, w, offset=None):
        out = w @ self.matrix.T
        return out if offset is None else offset + out


@dataclass(frozen=True)
class FrozenAlpha:
    """Multi-task parametrisation with alpha fixed (not trained)."""

    inner: MultiTaskSubspace
    alpha: torch.Tensor

    def init_params(self, seed):
        return {"V": self.inner.init_params(seed)["V"]}

    def thetas(self, params):
        return self.inner.thetas({"V": params["V"], "alpha": self.alpha})


def test_one_hot_alphas_give_single_task_learning_in_own_block():
    fm = flat_model(build_model("mlp", (6,), 3, seed=0), dtype=torch.float64)
    data = _blobs(n_tasks=3)
    n = k = 3
    l = 12
    proj = make_projector(fm.D, k * l, seed=4, dtype=torch.float64)
    settings = TrainSettings(epochs=3, batch_size=16, lr=0.05, weight_decay=5e-4, eval_batch_size=64, seed=1)
    joint = train(fm, FrozenAlpha(MultiTaskSubspace(fm.theta0, proj, n, l, k), torch.eye(3, dtype=torch.float64)),
                  data, settings)
    block0 = proj.dense()[:, :l]  # P_1, the first l columns of Q'
    alone = train(fm, Subspace(fm.theta0, DenseProjector(block0), 1), data.subset(slice(0, 1)), settings)
    torch.testing.assert_close(joint["params"]["V"][:, 0], alone["params"]["w"][0], rtol=1e-9, atol=1e-10)
    assert joint["test_acc"][0] == alone["test_acc"][0]


def _tiny_cfg(tmp_path, monkeypatch):
    monkeypatch.setattr("lib.experiments.cache_dir", lambda profile: tmp_path)
    return config.load("smoke", ["experiments.fashion_sp.n_tasks=4", "experiments.fashion_sp.m_train=100",
                                 "experiments.fashion_sp.m_test=100", "train.epochs=4", "train.lrs=[0.1]",
                                 "multitask.l_grid=[25, 50, 100, 200]", "multitask.k_grid=[1, 2, 3, 4]"])


def test_multitask_rejects_settings_outside_the_grids(tmp_path, monkeypatch):
    exp = Experiment(_tiny_cfg(tmp_path, monkeypatch), "fashion_sp")
    with pytest.raises(ValueError, match=r"outside the profile's grids: l in \[25, 50, 100, 200\]"):
        exp.train_multitask(7, 2, 0.1)
    with pytest.raises(ValueError, match=r"k in \[1, 2, 3, 4\]"):
        exp.train_multitask(25, 8, 0.1)


def test_search_matches_exhaustive_grid_on_a_tiny_real_run(tmp_path, monkeypatch):
    """Real (noisy) accuracy surfaces are only nearly monotone: at a target that falls between two
    non-monotone neighbours the bisection can settle on a larger AID. We require the exhaustive answer at
    the median and upper-quartile targets, and at >= 80% of all the surface's own levels."""
    cfg = _tiny_cfg(tmp_path, monkeypatch)
    exp = Experiment(cfg, "fashion_sp")
    grid_l, grid_k = cfg["multitask"]["l_grid"], cfg["multitask"]["k_grid"]

    def acc(l, k):
        return exp.best_multitask(l, k)["mean_test_acc"]

    full = exhaustive_aid(acc, grid_l, grid_k, 4, target=0.0)
    levels = sorted(set(full.evaluated.values()))
    assert levels[-1] > 0.4, "the tiny run learns (else the test says nothing)"
    agree = []
    for target in levels:
        fast = search_aid(acc, grid_l, grid_k, 4, target)
        assert fast.reached and fast.best_acc >= target
        assert fast.n_evaluated < full.n_evaluated
        agree.append(fast.best == exhaustive_aid(acc, grid_l, grid_k, 4, target).best)
    assert agree[len(levels) // 2] and agree[3 * len(levels) // 4]
    assert sum(agree) >= 0.8 * len(agree)
