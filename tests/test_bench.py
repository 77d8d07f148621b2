"""The benchmarks compare like with like: the reference projections compute the same P as ours."""
import torch

from bench import projector
from lib.subspace import make_projector


def test_straightforward_and_dense_references_equal_ours():
    P = make_projector(130, 17, seed=3, dtype=torch.float64)
    w = torch.randn(4, 17, dtype=torch.float64)
    torch.testing.assert_close(projector.straightforward(P)(w), P(w), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(projector.dense(P)(w), P(w), rtol=1e-12, atol=1e-12)


def test_projector_benchmark_reports_ratio_and_agreement_on_small_sizes():
    res = projector.run(repeats=1, sizes=[("tiny", 500, 20, 3)])
    assert res["values_within_1e-5"] and res["rows"][0]["speedup_vs_straightforward"] > 0
    assert {r["k"] for r in res["multitask_rows"]} == {3, 10, 50}
    assert all(r["max_abs_diff"] <= 1e-5 for r in res["multitask_rows"])
