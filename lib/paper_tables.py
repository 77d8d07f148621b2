"""The paper's reported numbers (Tables 1-5), in one place, as plain data.

Columns are keyed by the names used in ``params/paper.yaml``. ``PAPER_COUNTERPART``
maps an offline benchmark to the paper column it stands in for (Fashion-MNIST
uses the same construction and ConvNet as MNIST), so notebooks can show our
numbers beside the paper's without scattering literals.
"""
from __future__ import annotations

COLUMNS = ("mnist_sp", "mnist_pl", "folktables", "products",
           "cifar10_cnn", "cifar10_vit", "cifar100_cnn", "cifar100_vit")

TABLE1: dict[str, dict[str, object]] = {
    "mnist_sp": {"n": 30, "m": 2000, "D": 21840, "acc90": 0.85, "id90": 400, "aid90": 31.6, "lk": (65, 10)},
    "mnist_pl": {"n": 30, "m": 2000, "D": 21840, "acc90": 0.87, "id90": 300, "aid90": 166.6, "lk": (70, 50)},
    "folktables": {"n": 60, "m": 900, "D": 11810, "acc90": 0.65, "id90": 50, "aid90": 10, "lk": (60, 5)},
    "products": {"n": 60, "m": 2000, "D": 13730, "acc90": 0.75, "id90": 50, "aid90": 10, "lk": (60, 5)},
    "cifar10_cnn": {"n": 100, "m": 453, "D": 121182, "acc90": 0.63, "id90": 200, "aid90": 12, "lk": (20, 10)},
    "cifar10_vit": {"n": 30, "m": 1248, "D": 5526346, "acc90": 0.80, "id90": 200, "aid90": 26.7, "lk": (50, 10)},
    "cifar100_cnn": {"n": 100, "m": 450, "D": 128832, "acc90": 0.40, "id90": 1500, "aid90": 36, "lk": (80, 20)},
    "cifar100_vit": {"n": 30, "m": 1250, "D": 5543716, "acc90": 0.65, "id90": 550, "aid90": 100, "lk": (70, 30)},
}

# Table 2: upper bounds on the test error.
TABLE2: dict[str, dict[str, float]] = {
    "mnist_sp": {"single": 0.612, "thm2": 0.230, "thm3": 0.196},
    "mnist_pl": {"single": 0.576, "thm2": 0.404, "thm3": 0.350},
    "folktables": {"single": 0.566, "thm2": 0.394, "thm3": 0.388},
    "products": {"single": 0.332, "thm2": 0.222, "thm3": 0.203},
    "cifar10_cnn": {"single": 0.874, "thm2": 0.529, "thm3": 0.527},
    "cifar10_vit": {"single": 0.660, "thm2": 0.319, "thm3": 0.280},
    "cifar100_cnn": {"single": 0.994, "thm2": 0.869, "thm3": 0.830},
    "cifar100_vit": {"single": 0.905, "thm2": 0.665, "thm3": 0.658},
}

# Table 3: transfer to a new task vs learning it from scratch (averages over 10 runs).
TABLE3: dict[str, dict[str, float]] = {
    "mnist_sp": {"no_transfer": 0.604, "transfer": 0.151},
    "mnist_pl": {"no_transfer": 0.581, "transfer": 0.497},
    "folktables": {"no_transfer": 0.548, "transfer": 0.401},
    "products": {"no_transfer": 0.261, "transfer": 0.161},
    "cifar10_cnn": {"no_transfer": 0.871, "transfer": 0.580},
    "cifar10_vit": {"no_transfer": 0.700, "transfer": 0.283},
    "cifar100_cnn": {"no_transfer": 0.982, "transfer": 0.848},
    "cifar100_vit": {"no_transfer": 0.911, "transfer": 0.606},
}

# Tables 4/5: the inputs of Table 2. "single_len" is the average per-task code
# length in bits; l_E is the joint length of all task-specific parameters.
TABLE45: dict[str, dict[str, float]] = {
    "mnist_sp": {"n": 30, "m": 2000, "L": 10, "single_risk": 0.234, "single_r": 10, "single_len": 855.4,
                 "mtl_risk": 0.101, "r_g": 10, "r_l": 3, "l_meta": 2323, "l_tasks": 508, "avg_len": 94.4},
    "mnist_pl": {"n": 30, "m": 2000, "L": 10, "single_risk": 0.194, "single_r": 10, "single_len": 854.3,
                 "mtl_risk": 0.066, "r_g": 15, "r_l": 10, "l_meta": 14887, "l_tasks": 4796, "avg_len": 651.1},
    "folktables": {"n": 60, "m": 900, "L": 2, "single_risk": 0.280, "single_r": 5, "single_len": 212.6,
                   "mtl_risk": 0.272, "r_g": 10, "r_l": 10, "l_meta": 1586, "l_tasks": 686, "avg_len": 37.9},
    "products": {"n": 60, "m": 2000, "L": 2, "single_risk": 0.160, "single_r": 5, "single_len": 216.4,
                 "mtl_risk": 0.139, "r_g": 10, "r_l": 10, "l_meta": 1192, "l_tasks": 1128, "avg_len": 38.7},
    "cifar10_cnn": {"n": 100, "m": 453, "L": 3, "single_risk": 0.304, "single_r": 10, "single_len": 542.5,
                    "mtl_risk": 0.305, "r_g": 10, "r_l": 20, "l_meta": 2358, "l_tasks": 4144, "avg_len": 65.0},
    "cifar10_vit": {"n": 30, "m": 1248, "L": 3, "single_risk": 0.181, "single_r": 10, "single_len": 861.2,
                    "mtl_risk": 0.106, "r_g": 10, "r_l": 20, "l_meta": 3109, "l_tasks": 1747, "avg_len": 161.9},
    "cifar100_cnn": {"n": 100, "m": 450, "L": 10, "single_risk": 0.639, "single_r": 10, "single_len": 542.0,
                     "mtl_risk": 0.627, "r_g": 20, "r_l": 10, "l_meta": 4209, "l_tasks": 3341, "avg_len": 75.5},
    "cifar100_vit": {"n": 30, "m": 1250, "L": 10, "single_risk": 0.314, "single_r": 10, "single_len": 1842.9,
                     "mtl_risk": 0.274, "r_g": 20, "r_l": 30, "l_meta": 11512, "l_tasks": 4957, "avg_len": 549.0},
}

# Appendix B.3 grids.
L_GRID = (20, 30, 40, 50, 60, 70, 80, 90, 100, 120, 150, 200, 300, 400, 500, 600, 700, 800, 900, 1000,
          1200, 1400, 1600, 1800, 2000, 2500, 3000, 3500, 4000, 5000, 6000, 7000, 8000)
K_GRID = (5, 10, 15, 20, 30, 35, 40, 50, 60, 70, 80, 90)
LR_GRID = (0.1, 0.01, 0.001)
SINGLE_CODEBOOK_GRID = (2, 3, 5, 10, 15, 20, 30, 40)
R_G_GRID = (10, 15, 20, 30)
R_L_GRID = (3, 10, 15, 20, 25, 30)

BENCHMARK_TO_COLUMN = {
    "mnist_sp": "mnist_sp", "fashion_sp": "mnist_sp",
    "mnist_pl": "mnist_pl", "fashion_pl": "mnist_pl",
    "folktables": "folktables", "products": "products",
}


def paper_column(benchmark: str, model: str) -> str | None:
    """The Table-1 column a (benchmark, model) pair reproduces or stands in for; None if none."""
    if benchmark in BENCHMARK_TO_COLUMN:
        return BENCHMARK_TO_COLUMN[benchmark]
    if benchmark.startswith("split_cifar"):
        return f"{benchmark.removeprefix('split_')}_{'vit' if model.startswith('vit') else 'cnn'}"
    return None
