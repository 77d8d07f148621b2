"""Search cost: evaluations spent by ``lib.search`` vs the exhaustive paper grid, same answer required.

Accuracy surfaces are synthetic (saturating in l and k, several shapes and
targets) so the paper's 33 x 12 grid can be evaluated exhaustively in seconds;
the count of trainings is what a real search would spend per learning rate.
"""
from __future__ import annotations

import json
import math

from lib.paper_tables import K_GRID, L_GRID
from lib.search import exhaustive_aid, search_aid

SURFACES = [  # (n, scale_l, scale_k, target)
    (30, 60, 8, 0.7), (30, 300, 20, 0.6), (100, 60, 8, 0.8), (60, 20, 3, 0.85), (30, 150, 40, 0.5),
    (30, 1000, 30, 0.5), (100, 500, 10, 0.7),
]


def _surface(scale_l: float, scale_k: float):
    return lambda l, k: 0.95 * (1 - math.exp(-l / scale_l)) * (1 - math.exp(-k / scale_k))


def run() -> dict:
    rows = []
    for n, sl, sk, target in SURFACES:
        acc = _surface(sl, sk)
        fast = search_aid(acc, list(L_GRID), list(K_GRID), n, target)
        full = exhaustive_aid(acc, list(L_GRID), list(K_GRID), n, target)
        rows.append({"n": n, "scale_l": sl, "scale_k": sk, "target": target, "answer": fast.best,
                     "same_answer": fast.best == full.best, "search": fast.n_evaluated,
                     "exhaustive": full.n_evaluated, "ratio": round(fast.n_evaluated / full.n_evaluated, 3)})
    worst = max(r["ratio"] for r in rows)
    return {"benchmark": "search_cost", "rows": rows, "worst_ratio": worst, "ratio": worst, "target": 0.1,
            "all_same_answer": all(r["same_answer"] for r in rows)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
