"""ID/AID search: same answer as the exhaustive grid, with a fraction of its trainings."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.paper_tables import K_GRID, L_GRID
from lib.search import aid, exhaustive_aid, search_aid, search_id, speculate


def _monotone_surface(seed, n_l, n_k):
    """Random accuracy table non-decreasing in l and in k."""
    rng = np.random.default_rng(seed)
    steps = rng.exponential(size=(n_l, n_k)) * (rng.random((n_l, n_k)) < 0.7)
    table = np.cumsum(np.cumsum(steps, 0), 1)
    return table / table.max()


def _saturating(l, k, scale_l=60.0, scale_k=8.0):
    """A realistic surface: accuracy saturates in the number of directions l and basis size k."""
    return 0.95 * (1 - math.exp(-l / scale_l)) * (1 - math.exp(-k / scale_k))


def test_aid_formula():
    assert aid(65, 10, 30) == pytest.approx(31.67, abs=0.01)  # Table 1, MNIST SP
    assert aid(70, 50, 30) == pytest.approx(166.67, abs=0.01)  # Table 1, MNIST PL


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**6), target=st.floats(0.0, 1.0), n=st.integers(1, 120))
def test_search_matches_exhaustive_on_random_monotone_surfaces(seed, target, n):
    ls, ks = [5, 10, 20, 40, 80, 160], [1, 2, 3, 5, 8, 13, 21]
    table = _monotone_surface(seed, len(ls), len(ks))

    def acc(l, k):
        return float(table[ls.index(l), ks.index(k)])

    fast, full = search_aid(acc, ls, ks, n, target), exhaustive_aid(acc, ls, ks, n, target)
    assert fast.best == full.best and fast.best_value == full.best_value
    assert fast.n_evaluated <= full.n_evaluated


@pytest.mark.parametrize("n,scale_l,scale_k,target", [(30, 60, 8, 0.7), (30, 300, 20, 0.6), (100, 60, 8, 0.8),
                                                      (60, 20, 3, 0.85), (30, 150, 40, 0.5)])
def test_search_uses_at_most_ten_percent_of_the_paper_grid(n, scale_l, scale_k, target):
    calls = []

    def acc(l, k):
        calls.append((l, k))
        return _saturating(l, k, scale_l, scale_k)

    fast = search_aid(acc, list(L_GRID), list(K_GRID), n, target)
    full = exhaustive_aid(lambda l, k: _saturating(l, k, scale_l, scale_k), list(L_GRID), list(K_GRID), n, target)
    assert fast.best == full.best
    assert len(calls) == len(set(calls)), "no point is evaluated twice"
    assert fast.n_evaluated <= 0.1 * full.n_evaluated, (fast.n_evaluated, full.n_evaluated)


def test_unreached_target_is_a_result_not_a_crash():
    res = search_aid(lambda l, k: 0.5, [10, 20], [1, 2], 4, target=0.9)
    assert not res.reached and res.best is None
    assert "not reached; best was 0.500" in res.message()


def test_k_larger_than_n_is_searched_like_the_papers_mnist_pl():
    """Table 1's MNIST PL answer is (70, 50) with n = 30 tasks: k > n must be allowed."""
    res = search_aid(lambda l, k: 1.0 if k >= 50 and l >= 70 else 0.0, [20, 70, 100], [10, 50], n=30, target=0.5)
    assert res.best == (70, 50) and res.best_value == pytest.approx(166.67, abs=0.01)
    with pytest.raises(ValueError, match="non-empty grids"):
        search_aid(lambda l, k: 1.0, [10], [], n=10, target=0.5)


def test_search_id_bisection():
    grid = [10, 20, 50, 100, 200, 400, 800]
    calls = []
    res = search_id(lambda d: calls.append(d) or min(1.0, d / 300), grid, target=0.6)
    assert res.best == (200,) and len(calls) <= 4
    assert not search_id(lambda d: 0.1, grid, 0.5).reached


def _rounds(run, accuracy, target, depth):
    """Evaluate speculated points round by round until the search can finish; (evaluated, rounds)."""
    known, rounds = {}, 0
    while points := speculate(run, known.get, target, depth):
        known.update({p: accuracy(p) for p in points})
        rounds += 1
    return known, rounds


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), target=st.floats(0.05, 1.0), n=st.sampled_from([5, 30, 100]),
       depth=st.integers(1, 4))
def test_speculative_rounds_cover_the_sequential_search(seed, target, n, depth):
    """Rounds of speculated points contain every point the sequential search evaluates, so it then
    finishes from the cache with the same answer; depth 1 is exactly the sequential search, and
    deeper look-ahead needs fewer rounds."""
    table = _monotone_surface(seed, len(L_GRID), len(K_GRID))
    li, ki = {l: i for i, l in enumerate(L_GRID)}, {k: j for j, k in enumerate(K_GRID)}
    accuracy = lambda p: float(table[li[p[0]], ki[p[1]]])  # noqa: E731
    run = lambda acc: search_aid(lambda l, k: acc((l, k)), list(L_GRID), list(K_GRID), n, target)  # noqa: E731
    sequential = run(accuracy)
    known, rounds = _rounds(run, accuracy, target, depth)
    assert set(sequential.evaluated) <= set(known)
    replay = run(lambda p: known[p])
    assert replay.best == sequential.best
    if depth == 1:
        assert set(known) == set(sequential.evaluated) and rounds == sequential.n_evaluated
    else:
        assert rounds <= sequential.n_evaluated
