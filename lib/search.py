"""ID_90 and AID_90 searches that use the structure of the problem instead of the full grid.

The paper evaluates 33 l x 12 k x 3 learning rates. We assume what the paper's
own numbers show: accuracy does not decrease when l or k grows, and
AID(l, k) = l*k/n + k grows with both. Then

* for a fixed k, the smallest l reaching the target is found by bisection over the
  l grid (one extra evaluation at the top end says whether any l works);
* the frontier l*(k) does not increase with k, so the previous k's answer caps the
  next bisection;
* a k whose smallest possible AID, aid(min l, k), cannot beat the best found so far
  is skipped, and so is every larger k (aid grows with k); for the remaining ks only
  the l values with aid(l, k) below the best are candidates.

Every evaluation goes through ``accuracy(l, k)`` (cached by the caller), and the
result reports how many distinct points were evaluated. If the target is reached
nowhere, the result says so and reports the best accuracy seen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


def aid(l: int, k: int, n: int) -> float:
    """Amortised intrinsic dimension: parameters per task, (l*k + n*k) / n."""
    return l * k / n + k


@dataclass
class SearchResult:
    """Outcome of a search: the winner (or None) and every point it evaluated."""

    target: float
    best: tuple[int, ...] | None
    best_value: float | None          # AID_90 (or ID_90) of the winner
    best_acc: float | None
    evaluated: dict[tuple[int, ...], float] = field(default_factory=dict)

    @property
    def reached(self) -> bool:
        return self.best is not None

    @property
    def n_evaluated(self) -> int:
        return len(self.evaluated)

    def message(self) -> str:
        if self.reached:
            return f"reached {self.target:.3f} at {self.best} (value {self.best_value:.1f}, acc {self.best_acc:.3f})"
        top = max(self.evaluated.items(), key=lambda kv: kv[1]) if self.evaluated else None
        best = f"best was {top[1]:.3f} at {top[0]}" if top else "nothing evaluated"
        return f"target {self.target:.3f} not reached; {best}"


def _smallest_reaching(grid: list[int], ok: Callable[[int], bool]) -> int | None:
    """Smallest grid value for which ``ok`` holds, assuming ``ok`` is monotone; None if none."""
    if not grid or not ok(grid[-1]):
        return None
    lo, hi = 0, len(grid) - 1  # ok(grid[hi]) holds
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(grid[mid]):
            hi = mid
        else:
            lo = mid + 1
    return grid[hi]


def search_id(accuracy: Callable[[int], float], d_grid: list[int], target: float) -> SearchResult:
    """ID_90: the smallest d on the grid whose accuracy reaches ``target`` (bisection)."""
    evaluated: dict[tuple[int, ...], float] = {}

    def ok(d: int) -> bool:
        if (d,) not in evaluated:
            evaluated[(d,)] = accuracy(d)
        return evaluated[(d,)] >= target

    d = _smallest_reaching(sorted(set(d_grid)), ok)
    if d is None:
        return SearchResult(target, None, None, None, evaluated)
    return SearchResult(target, (d,), float(d), evaluated[(d,)], evaluated)


def search_aid(accuracy: Callable[[int, int], float], l_grid: list[int], k_grid: list[int], n: int,
               target: float) -> SearchResult:
    """AID_90: the (l, k) of smallest AID whose accuracy reaches ``target``.

    ``k`` may exceed ``n``: the paper's MNIST PL answer is (l, k) = (70, 50) for n = 30.
    """
    if n <= 0 or not l_grid or not k_grid:
        raise ValueError(f"need n > 0 and non-empty grids, got n={n}, l_grid={l_grid}, k_grid={k_grid}")
    ls, ks = sorted(set(l_grid)), sorted(set(k_grid))
    evaluated: dict[tuple[int, ...], float] = {}
    best: tuple[int, int] | None = None
    best_aid = float("inf")
    l_cap = ls[-1]
    for k in ks:
        if aid(ls[0], k, n) >= best_aid:
            break
        candidates = [l for l in ls if l <= l_cap and aid(l, k, n) < best_aid]

        def ok(l: int, k: int = k) -> bool:
            if (l, k) not in evaluated:
                evaluated[(l, k)] = accuracy(l, k)
            return evaluated[(l, k)] >= target

        l_star = _smallest_reaching(candidates, ok)
        if l_star is not None:
            best, best_aid, l_cap = (l_star, k), aid(l_star, k, n), l_star
    if best is None:
        return SearchResult(target, None, None, None, evaluated)
    return SearchResult(target, best, best_aid, evaluated[best], evaluated)


def exhaustive_aid(accuracy: Callable[[int, int], float], l_grid: list[int], k_grid: list[int], n: int,
                   target: float) -> SearchResult:
    """The reference: evaluate every (l, k) and take the smallest AID reaching the target."""
    evaluated = {(l, k): accuracy(l, k) for k in sorted(k_grid) for l in sorted(l_grid)}
    hits = [(aid(l, k, n), k, l) for (l, k), acc in evaluated.items() if acc >= target]
    if not hits:
        return SearchResult(target, None, None, None, evaluated)
    value, k, l = min(hits)  # ties: the smaller k, as the search keeps the first k found
    point = (l, k)
    return SearchResult(target, point, value, evaluated[point], evaluated)


class _Unknown(Exception):
    """Raised by a speculative oracle at the first point whose accuracy is not known yet."""

    def __init__(self, point: tuple[int, ...]):
        super().__init__(point)
        self.point = point


def speculate(run: Callable[[Callable[[tuple[int, ...]], float]], object],
              known: Callable[[tuple[int, ...]], float | None], target: float, depth: int) -> list[tuple[int, ...]]:
    """The points a sequential search will ask for next, in every outcome of its next ``depth`` questions.

    ``run(accuracy)`` runs the search with ``accuracy(point)``; ``known(point)`` is a
    measured accuracy or None. The searches here only compare accuracies with
    ``target``, so each unknown point has two outcomes (reached / not reached):
    replaying the search under each assumption finds the following question. Depth 1
    gives exactly the sequential search's next point; depth h up to 2^h - 1 points,
    all independent, so a cluster can train them at once. An empty list: the search
    can finish from what is known.
    """
    def first_unknown(assumed: dict[tuple[int, ...], float]) -> tuple[int, ...] | None:
        def accuracy(point: tuple[int, ...]) -> float:
            if point in assumed:
                return assumed[point]
            value = known(point)
            if value is None:
                raise _Unknown(point)
            return value
        try:
            run(accuracy)
        except _Unknown as missing:
            return missing.point
        return None

    points: list[tuple[int, ...]] = []
    frontier: list[dict[tuple[int, ...], float]] = [{}]
    for _ in range(depth):
        following = []
        for assumed in frontier:
            point = first_unknown(assumed)
            if point is None:
                continue
            if point not in points:
                points.append(point)
            following += [{**assumed, point: target}, {**assumed, point: float("-inf")}]
        frontier = following
    return points
