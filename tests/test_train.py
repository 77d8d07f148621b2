"""Vectorised training: deterministic, equal to training a task alone, and it learns."""
import torch

from lib.data import TaskData
from lib.models import build_model
from lib.subspace import FullSpace, MultiTaskSubspace, Subspace, flat_model, make_projector
from lib.train import TrainSettings, evaluate, train


def _blobs(n_tasks=3, m=64, m_test=64, seed=0, dtype=torch.float64):
    """Linearly separable 3-class Gaussian blobs, a different rotation per task."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(3, 6, generator=g, dtype=dtype) * 3
    xs, ys = [], []
    for _ in range(n_tasks):
        rot = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=dtype))[0]
        y = torch.randint(0, 3, (m + m_test,), generator=g)
        x = (centres[y] + torch.randn(m + m_test, 6, generator=g, dtype=dtype)) @ rot
        xs.append(x)
        ys.append(y)
    x, y = torch.stack(xs), torch.stack(ys)
    return TaskData("blobs", x[:, :m], y[:, :m], x[:, m:], y[:, m:], 3)


def _settings(**kw):
    base = dict(epochs=4, batch_size=16, lr=0.05, weight_decay=5e-4, eval_batch_size=32, seed=0)
    return TrainSettings(**{**base, **kw})


def _fm():
    return flat_model(build_model("mlp", (6,), 3, seed=0), dtype=torch.float64)


def test_training_is_deterministic_on_cpu():
    fm, data = _fm(), _blobs()
    param = Subspace(fm.theta0, make_projector(fm.D, 20, 0, dtype=torch.float64), 3)
    a, b = (train(fm, param, data, _settings()) for _ in range(2))
    assert torch.equal(a["params"]["w"], b["params"]["w"]) and a["test_acc"] == b["test_acc"]


def test_vectorised_task_equals_task_trained_alone():
    fm, data = _fm(), _blobs()
    proj = make_projector(fm.D, 20, 0, dtype=torch.float64)
    joint = train(fm, Subspace(fm.theta0, proj, 3), data, _settings())
    alone = train(fm, Subspace(fm.theta0, proj, 1), data.subset(slice(0, 1)), _settings())
    torch.testing.assert_close(joint["params"]["w"][:1], alone["params"]["w"], rtol=1e-9, atol=1e-10)


def test_subspace_training_learns_beyond_chance():
    fm, data = _fm(), _blobs()
    result = train(fm, Subspace(fm.theta0, make_projector(fm.D, 40, 0, dtype=torch.float64), 3), data,
                   _settings(epochs=10))
    assert result["mean_test_acc"] > 0.6  # chance is 1/3
    assert result["history"][-1] < result["history"][0]


def test_full_and_multitask_parametrisations_train():
    fm, data = _fm(), _blobs()
    full = train(fm, FullSpace(fm.theta0, 3), data, _settings(lr=0.01))
    mt = train(fm, MultiTaskSubspace(fm.theta0, make_projector(fm.D, 30, 0, dtype=torch.float64), 3, 10, 3),
               data, _settings(epochs=10))
    assert full["mean_test_acc"] > 0.8 and mt["mean_test_acc"] > 0.6
    assert set(mt["params"]) == {"V", "alpha"}


def test_evaluate_counts_correct_predictions():
    fm, data = _fm(), _blobs(n_tasks=2, m=10, m_test=10)
    thetas = fm.theta0.expand(2, -1)
    logits = torch.stack([fm.forward(fm.theta0, data.x_test[j]) for j in range(2)])
    expected = (logits.argmax(-1) == data.y_test).double().mean(1).tolist()
    assert evaluate(fm, thetas, data.x_test, data.y_test, batch_size=3)["acc"] == expected


def test_amp_trains_in_bf16_but_evaluation_stays_exact_fp32():
    fm = flat_model(build_model("mlp", (6,), 3, seed=0))  # float32: what autocast applies to
    data = _blobs(dtype=torch.float32)
    param = Subspace(fm.theta0, make_projector(fm.D, 20, 0), 3)
    plain, amp = (train(fm, param, data, _settings(amp=flag)) for flag in (False, True))
    assert not torch.equal(plain["params"]["w"], amp["params"]["w"])  # bf16 steps: other numerics
    assert amp["mean_test_acc"] > 0.6  # ... but they still learn
    thetas = param.thetas(amp["params"])
    exact = evaluate(fm, thetas, data.x_test, data.y_test, 32)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # a caller's autocast does not leak into evaluation
        inside = evaluate(fm, thetas, data.x_test, data.y_test, 32)
    assert inside == exact
