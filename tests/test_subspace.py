"""Kronecker projector vs the dense Kronecker product; multi-task parametrisation vs Eq. (3)."""
import math

import pytest
import torch

from lib.models import build_model
from lib.subspace import (FullSpace, MultiTaskSubspace, Subspace, block_diagonal_codes, flat_model,
                          make_projector, task_codes)


@pytest.mark.parametrize("D,d", [(50, 7), (49, 9), (130, 17), (10, 1), (21, 30)])
def test_projection_equals_dense_kronecker(D, d):
    P = make_projector(D, d, seed=1, dtype=torch.float64)
    dense = P.dense()
    assert dense.shape == (D, d)
    w = torch.randn(4, d, dtype=torch.float64, requires_grad=True)
    out = P(w)
    torch.testing.assert_close(out, w @ dense.T, rtol=1e-12, atol=1e-12)
    g = torch.randn(4, D, dtype=torch.float64)
    (grad,) = torch.autograd.grad((out * g).sum(), w)
    torch.testing.assert_close(grad, g @ dense, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("D,d", [(50, 7), (49, 9), (3, 2)])
def test_projection_with_offset_and_leading_dims_passes_gradcheck(D, d):
    """The fused ``offset + P w`` (used for theta_0 and the transfer basis) against autograd's numerics."""
    P = make_projector(D, d, seed=2, dtype=torch.float64)
    w = torch.randn(2, 3, d, dtype=torch.float64, requires_grad=True)
    shared = torch.randn(D, dtype=torch.float64, requires_grad=True)
    per_task = torch.randn(2, 3, D, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(P(w, shared), shared + w @ P.dense().T, rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(lambda w, o: P(w, o), (w, shared))
    assert torch.autograd.gradcheck(lambda w, o: P(w, o), (w, per_task))


def test_dense_is_truncated_kronecker_of_padded_factors():
    D, d = 40, 5
    P = make_projector(D, d, seed=0, dtype=torch.float64)
    assert P.q1.shape == (math.ceil(math.sqrt(D)), math.ceil(math.sqrt(d)))
    full = torch.kron(P.q1, P.q2) / math.sqrt(D)
    torch.testing.assert_close(P.dense(), full[:D, :d])


def test_columns_have_unit_norm_in_expectation():
    norms = torch.stack([make_projector(400, 64, seed=s, dtype=torch.float64).dense().pow(2).sum(0)
                         for s in range(20)])
    assert abs(norms.mean().item() - 1.0) < 0.05


def test_same_seed_same_projector_and_other_seed_differs():
    a, b, c = (make_projector(300, 20, seed=s) for s in (5, 5, 6))
    assert torch.equal(a.q1, b.q1) and torch.equal(a.q2, b.q2)
    assert not torch.equal(a.q1, c.q1)


def test_rejects_nonpositive_dims():
    with pytest.raises(ValueError, match="d > 0"):
        make_projector(10, 0, seed=0)


def _tiny_flat_model():
    return flat_model(build_model("mlp", (6,), 3, seed=0), dtype=torch.float64)


def test_functional_forward_matches_module():
    module = build_model("mnist_convnet", (1, 28, 28), 10, seed=0)
    fm = flat_model(module)
    x = torch.randn(5, 1, 28, 28)
    torch.testing.assert_close(fm.forward(fm.theta0, x), module(x))


def test_vectorised_forward_equals_loop_over_tasks():
    fm = _tiny_flat_model()
    thetas = fm.theta0 + 0.1 * torch.randn(4, fm.D, dtype=torch.float64)
    xs = torch.randn(4, 7, 6, dtype=torch.float64)
    batched = fm.forward_tasks(thetas, xs)
    looped = torch.stack([fm.forward(thetas[j], xs[j]) for j in range(4)])
    torch.testing.assert_close(batched, looped)


@pytest.mark.parametrize("n,k", [(5, 3), (2, 3), (3, 3)])  # k < n: via the basis Q; k >= n: via task codes
def test_multitask_thetas_equal_eq3_with_dense_q_prime(n, k):
    fm = _tiny_flat_model()
    l = 4
    proj = make_projector(fm.D, k * l, seed=2, dtype=torch.float64)
    param = MultiTaskSubspace(fm.theta0, proj, n, l, k)
    V = torch.randn(l, k, dtype=torch.float64, requires_grad=True)
    alpha = torch.randn(n, k, dtype=torch.float64, requires_grad=True)
    q_prime = proj.dense()  # (D, k*l) = [P_1 ... P_k]
    expected = fm.theta0 + task_codes(V, alpha) @ q_prime.T
    got = param.thetas({"V": V, "alpha": alpha})
    torch.testing.assert_close(got, expected)
    g = torch.randn_like(got)
    torch.testing.assert_close(torch.autograd.grad((got * g).sum(), (V, alpha)),
                               torch.autograd.grad((expected * g).sum(), (V, alpha)))
    V, alpha = V.detach(), alpha.detach()
    # Q's columns are P_i v_i with P_i the i-th block of l columns of Q'
    blocks = [q_prime[:, i * l:(i + 1) * l] @ V[:, i] for i in range(k)]
    torch.testing.assert_close(param.basis(V), torch.stack(blocks))
    assert block_diagonal_codes(V).shape == (k, k * l)


def test_subspace_and_full_start_at_theta0():
    fm = _tiny_flat_model()
    sub = Subspace(fm.theta0, make_projector(fm.D, 8, 0, dtype=torch.float64), 3)
    full = FullSpace(fm.theta0, 3)
    mt = MultiTaskSubspace(fm.theta0, make_projector(fm.D, 6, 0, dtype=torch.float64), 3, 3, 2)
    for param in (sub, full, mt):
        thetas = param.thetas(param.init_params(0))
        torch.testing.assert_close(thetas, fm.theta0.expand(3, -1))


@pytest.mark.parametrize("name,shape,classes", [("mnist_convnet", (1, 28, 28), 10), ("cifar_convnet", (3, 32, 32), 10),
                                                ("mlp", (10,), 2)])
def test_grouped_executor_equals_per_task_forward(name, shape, classes):
    fm = flat_model(build_model(name, shape, classes, seed=0), dtype=torch.float64)
    assert fm.grouped, "Table 6 Sequential models use the grouped executor"
    thetas = fm.theta0 + 0.05 * torch.randn(3, fm.D, dtype=torch.float64, requires_grad=True)
    xs = torch.randn(3, 4, *shape, dtype=torch.float64)
    grouped_out = fm.forward_tasks(thetas, xs)
    looped = torch.stack([fm.forward(thetas[j], xs[j]) for j in range(3)])
    torch.testing.assert_close(grouped_out, looped)
    g = torch.randn_like(looped)
    (ga,) = torch.autograd.grad((grouped_out * g).sum(), thetas)
    (gb,) = torch.autograd.grad((looped * g).sum(), thetas)
    torch.testing.assert_close(ga, gb)


def test_vmap_fallback_for_other_modules():
    module = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.LayerNorm(5), torch.nn.Linear(5, 2))
    fm = flat_model(module, dtype=torch.float64)
    assert not fm.grouped
    thetas = fm.theta0 + 0.1 * torch.randn(2, fm.D, dtype=torch.float64)
    xs = torch.randn(2, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(fm.forward_tasks(thetas, xs), torch.stack([fm.forward(thetas[j], xs[j]) for j in range(2)]))
