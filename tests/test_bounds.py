"""Bounds: kl inverse properties, input validation, and Table 2 recomputed from Tables 4/5."""
import math

import pytest
from hypothesis import assume, given, settings, strategies as st

from lib.bounds import (kl_bernoulli, kl_inverse, mtl_hoeffding_bound, mtl_kl_bound, mtl_pinsker_bound,
                        occam_bound, single_task_average)
from lib.paper_tables import TABLE2, TABLE45

risk = st.floats(0.0, 1.0)
budget = st.floats(0.0, 50.0)


@settings(max_examples=300, deadline=None)
@given(q=risk, b1=budget, b2=budget)
def test_kl_inverse_monotone_in_budget_and_never_below_q(q, b1, b2):
    lo, hi = sorted((b1, b2))
    assert q <= kl_inverse(q, lo) <= kl_inverse(q, hi) <= 1.0


@settings(max_examples=300, deadline=None)
@given(q=st.floats(0.0, 0.999), b=st.floats(1e-6, 5.0))
def test_kl_inverse_is_the_supremum(q, b):
    p = kl_inverse(q, b)
    assume(p < 1.0)
    assert kl_bernoulli(q, p) >= b - 1e-9          # at (or just past) the boundary ...
    assert kl_bernoulli(q, max(q, p - 1e-6)) <= b  # ... and feasible just below it


@given(q=risk)
def test_kl_inverse_exact_at_zero_budget(q):
    assert kl_inverse(q, 0.0) == q


def test_kl_inverse_below_one_when_budget_exceeds_minus_log_q():
    """kl(q | p) is unbounded as p -> 1 (for q < 1): a budget of 0.7 at q = 0.5 is not vacuous."""
    p = kl_inverse(0.5, 0.7)
    assert 0.9 < p < 1.0 and kl_bernoulli(0.5, p) == pytest.approx(0.7, abs=1e-6)


def test_kl_inverse_huge_budget_and_zero_risk():
    assert kl_inverse(0.3, 1e6) == 1.0
    assert kl_inverse(0.0, 1e6) == 1.0
    # at q = 0, kl(0 | p) = -log(1 - p): the inverse is 1 - exp(-b)
    assert kl_inverse(0.0, 0.1) == pytest.approx(1 - math.exp(-0.1), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(r=risk, bits=st.floats(0, 1e5), m=st.integers(1, 10**5), n=st.integers(1, 200))
def test_thm3_tighter_than_pinsker_and_bounds_above_risk(r, bits, m, n):
    kl_b = mtl_kl_bound(r, bits, 0, m, n, 0.05)
    assert r <= kl_b <= max(1.0, mtl_pinsker_bound(r, bits, 0, m, n, 0.05)) + 1e-9
    assert mtl_pinsker_bound(r, bits, 0, m, n, 0.05) >= mtl_hoeffding_bound(r, bits, 0, m, n, 0.05)


@pytest.mark.parametrize("kwargs,message", [
    (dict(risk=1.2), "empirical risk"), (dict(risk=-0.1), "empirical risk"), (dict(m=0), "m "),
    (dict(n=0), "n "), (dict(delta=0.0), "delta"), (dict(delta=1.0), "delta"), (dict(meta_bits=-1), "code length"),
])
def test_bounds_reject_bad_inputs(kwargs, message):
    args = dict(risk=0.1, meta_bits=100, task_bits=50, m=100, n=10, delta=0.05) | kwargs
    for fn in (mtl_hoeffding_bound, mtl_kl_bound, mtl_pinsker_bound):
        with pytest.raises(ValueError, match=message):
            fn(**args)


def test_occam_bound_rejects_bad_inputs():
    with pytest.raises(ValueError, match="delta"):
        occam_bound(0.1, 10, 100, 1.5)
    with pytest.raises(ValueError, match="m "):
        occam_bound(0.1, 10, -3, 0.05)


@pytest.mark.parametrize("column", list(TABLE45))
def test_table2_mtl_rows_recomputed_from_tables_4_and_5(column):
    t, paper = TABLE45[column], TABLE2[column]
    args = (t["mtl_risk"], t["l_meta"], t["l_tasks"], t["m"], t["n"], 0.05)
    assert mtl_hoeffding_bound(*args) == pytest.approx(paper["thm2"], abs=0.002)
    assert mtl_kl_bound(*args) == pytest.approx(paper["thm3"], abs=0.002)


@pytest.mark.parametrize("column", list(TABLE45))
def test_table2_single_task_row_roughly_recomputed(column):
    """Tables 4/5 give only the average risk and length, the paper averaged per-task bounds: ~0.01 agreement."""
    t = TABLE45[column]
    ours = single_task_average([t["single_risk"]], [t["single_len"]], t["m"], 0.05 / t["n"] * 1)
    assert ours == pytest.approx(min(1.0, TABLE2[column]["single"]), abs=0.012)


def test_single_task_average_splits_delta():
    one = single_task_average([0.2], [500], 1000, 0.05)
    many = single_task_average([0.2] * 10, [500] * 10, 1000, 0.05)
    assert many > one  # each of 10 tasks is bounded at delta/10
