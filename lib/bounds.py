"""Compression-based generalisation bounds (paper Section 5, Appendix A).

All logs are natural; a code of ``bits`` bits contributes ``bits * log(2)``.
Every function checks its inputs: an empirical risk outside [0, 1], a sample
count m or task count n <= 0, a confidence delta outside (0, 1) or a negative
code length is a ``ValueError`` naming the argument.

* Theorem 1 (single task, Occam):      R <= r + sqrt((bits ln2 + ln(1/delta)) / (2m))
* Theorem 2 (multi-task, Hoeffding):   R <= r + sqrt(((l(E) + l_E) ln2 + ln(1/delta)) / (2mn))
* Theorem 3 / Corollary 4 (fast rate): R <= kl^-1(r | ((l(E) + l_E) ln2 + ln(2 sqrt(mn)/delta)) / (mn))
* Eq. (9), Pinsker relaxation of Thm 3: R <= r + sqrt(((l(E) + l_E) ln2 + ln(2 sqrt(mn)/delta)) / (2mn))

Single-task learning of n tasks is bounded task by task (Theorem 1 with the kl
form, i.e. Corollary 4 with n = 1); for the average of the n per-task bounds to
hold simultaneously, each task's bound uses ``delta / n`` (a union bound), which
:func:`single_task_average` does.
"""
from __future__ import annotations

import math
from typing import Sequence

LN2 = math.log(2.0)


def _check(risk: float | None = None, m: int | None = None, n: int | None = None, delta: float | None = None,
           bits: float | None = None) -> None:
    if risk is not None and not (0.0 <= risk <= 1.0 and math.isfinite(risk)):
        raise ValueError(f"empirical risk must lie in [0, 1], got {risk}")
    if m is not None and not m > 0:
        raise ValueError(f"m (examples per task) must be positive, got {m}")
    if n is not None and not n > 0:
        raise ValueError(f"n (number of tasks) must be positive, got {n}")
    if delta is not None and not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    if bits is not None and not (bits >= 0 and math.isfinite(bits)):
        raise ValueError(f"code length must be a non-negative number of bits, got {bits}")


def kl_bernoulli(q: float, p: float) -> float:
    """kl(q | p) between Bernoulli(q) and Bernoulli(p), with 0 log 0 = 0 (inf if p excludes q's support)."""
    _check(risk=q)
    _check(risk=p)
    out = 0.0
    if q > 0:
        out += math.inf if p == 0 else q * math.log(q / p)
    if q < 1:
        out += math.inf if p == 1 else (1 - q) * math.log((1 - q) / (1 - p))
    return out


def kl_inverse(q: float, b: float, tol: float = 1e-12) -> float:
    """kl^-1(q | b) = sup{p in [q, 1] : kl(q | p) <= b} by bisection (Eq. 10).

    Monotone in b, never below q, equal to q at b = 0, and (to within ``tol``) 1 when b is
    huge: for q < 1, kl(q | p) grows without bound as p -> 1. The bisection keeps an upper
    end where kl exceeds b, so the result is a valid upper bound to within ``tol``.
    """
    _check(risk=q)
    if not (b >= 0 and not math.isnan(b)):
        raise ValueError(f"kl budget b must be non-negative, got {b}")
    if b == 0 or q == 1.0:
        return q
    if b == math.inf:
        return 1.0
    lo, hi = q, 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if kl_bernoulli(q, mid) <= b:
            lo = mid
        else:
            hi = mid
    return hi


def occam_bound(risk: float, bits: float, m: int, delta: float) -> float:
    """Theorem 1: single-task bound from a prefix-free code of ``bits`` bits."""
    _check(risk=risk, m=m, delta=delta, bits=bits)
    return risk + math.sqrt((bits * LN2 + math.log(1 / delta)) / (2 * m))


def mtl_hoeffding_bound(risk: float, meta_bits: float, task_bits: float, m: int, n: int, delta: float) -> float:
    """Theorem 2: multi-task bound with meta-code l(E) and joint task code l_E."""
    _check(risk=risk, m=m, n=n, delta=delta, bits=meta_bits)
    _check(bits=task_bits)
    return risk + math.sqrt(((meta_bits + task_bits) * LN2 + math.log(1 / delta)) / (2 * m * n))


def kl_budget(meta_bits: float, task_bits: float, m: int, n: int, delta: float) -> float:
    """The right-hand side of Theorem 3."""
    _check(m=m, n=n, delta=delta, bits=meta_bits)
    _check(bits=task_bits)
    return ((meta_bits + task_bits) * LN2 + math.log(2 * math.sqrt(m * n) / delta)) / (m * n)


def mtl_kl_bound(risk: float, meta_bits: float, task_bits: float, m: int, n: int, delta: float) -> float:
    """Theorem 3 via Corollary 4: the kl-inverse (fast-rate) multi-task bound."""
    _check(risk=risk)
    return kl_inverse(risk, kl_budget(meta_bits, task_bits, m, n, delta))


def mtl_pinsker_bound(risk: float, meta_bits: float, task_bits: float, m: int, n: int, delta: float) -> float:
    """Eq. (9): Theorem 3 relaxed with Pinsker's inequality (Theorem 2 plus a log(2 sqrt(mn)) term)."""
    _check(risk=risk)
    return risk + math.sqrt(kl_budget(meta_bits, task_bits, m, n, delta) / 2)


def single_task_average(risks: Sequence[float], bits: Sequence[float], m: int, delta: float) -> float:
    """Average over tasks of each task's own kl bound (Cor. 4 with n = 1) at confidence delta / n each,
    so that all n bounds, hence their average, hold together with probability >= 1 - delta."""
    if len(risks) != len(bits) or not risks:
        raise ValueError("need one code length per task and at least one task")
    per_task_delta = delta / len(risks)
    return sum(mtl_kl_bound(r, 0.0, b, m, 1, per_task_delta) for r, b in zip(risks, bits)) / len(risks)
