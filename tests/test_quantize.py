"""1-D k-means is optimal (vs brute force), deterministic; STE quantisation routes gradients as intended."""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from lib.quantize import Quantised, harden, kmeans_1d, nearest, start_quantised, ste_quantise


def _sse(x, centres):
    return float(((x - centres[nearest(x, centres)]) ** 2).sum())


def _brute_force(x, r):
    xs = np.sort(x)
    best = np.inf
    for cuts in itertools.combinations(range(1, xs.size), r - 1):
        parts = np.split(xs, cuts)
        best = min(best, sum(((p - p.mean()) ** 2).sum() for p in parts))
    return best


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), size=st.integers(3, 11), r=st.integers(1, 4))
def test_kmeans_is_optimal(seed, size, r):
    x = np.random.default_rng(seed).normal(size=size)
    r = min(r, size)
    assert _sse(x, kmeans_1d(x, r)) == pytest.approx(_brute_force(x, r), abs=1e-9)


def test_kmeans_sorted_deterministic_and_padded():
    x = np.random.default_rng(0).standard_t(3, size=800)
    a, b = kmeans_1d(x, 10), kmeans_1d(x, 10)
    assert np.array_equal(a, b) and np.all(np.diff(a) >= 0) and a.size == 10
    assert np.array_equal(kmeans_1d(np.array([1.0, 1.0, 2.0]), 4), [1.0, 2.0, 2.0, 2.0])


def test_large_inputs_use_binned_dp_plus_lloyd():
    x = np.random.default_rng(1).normal(size=20000)
    centres = kmeans_1d(x, 8)
    quantile_init = np.quantile(x, (np.arange(8) + 0.5) / 8)
    assert _sse(x, centres) < _sse(x, quantile_init)


def test_ste_forward_quantises_backward_reaches_latent_and_codebook():
    latent = torch.tensor([[0.1, 0.9, 0.45]], requires_grad=True)
    book = torch.tensor([[0.0, 1.0]], requires_grad=True)
    q = ste_quantise(latent, book)
    assert torch.equal(q.detach(), torch.tensor([[0.0, 1.0, 0.0]]))
    q.sum().backward()
    assert torch.equal(latent.grad, torch.ones(1, 3))
    assert torch.equal(book.grad, torch.tensor([[2.0, 1.0]]))


class _Linear:
    """A toy parametrisation: thetas = a (n, 4) plus b (n, 4)."""

    def init_params(self, seed):
        raise NotImplementedError

    def thetas(self, params):
        return params["a"] + params["b"]


def test_quantised_wrapper_and_harden():
    a = torch.tensor([[0.0, 0.1, 0.9, 1.0], [5.0, 5.1, 6.0, 6.1]])
    b = torch.ones(2, 4)
    init = start_quantised({"a": a}, {"a": 2}, r=2)
    q = Quantised(_Linear(), init, {"a": 2}, fixed={"b": b})
    thetas = q.thetas(q.init_params(0))
    torch.testing.assert_close(thetas, torch.tensor([[1.05, 1.05, 1.95, 1.95], [6.05, 6.05, 7.05, 7.05]]))
    hard = harden(init, {"a": 2})["a"]
    assert hard["codebooks"].shape == (2, 2) and hard["indices"].tolist() == [[0, 0, 1, 1], [0, 0, 1, 1]]
    torch.testing.assert_close(hard["values"], hard["codebooks"].gather(1, hard["indices"]))
