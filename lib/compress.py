"""From trained subspace parameters to decoded quantised models, code lengths and bounds.

Single task (per task j, its own codebook of r entries):
    k-means -> quantisation-aware fine-tuning (all tasks at once) -> encode each
    task (header: d, lr, r) -> decode -> evaluate the decoded model -> Theorem 1
    (kl form) per task at delta/n, averaged.
Multi-task (Appendix B.3): stage 1 quantises and fine-tunes the shared V
(codebook r_g) while the alphas stay continuous; stage 2 freezes the decoded V
and quantises and fine-tunes all alphas with one joint codebook (r_l). The
meta-code holds (l, k, lr, r_g, r_l) and V; the multi-task code holds the alphas.
The decoded model gives the empirical risk of Theorems 2 and 3.

Codebook sizes are chosen on training data only (the bound itself: training
risk and code length) from the profile's grids, and the choice is paid for in
the header. Every stage is cached like the trainings (``Experiment.cached_result``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lib import bounds, coding
from lib.experiments import Experiment
from lib.quantize import Quantised, harden, start_quantised
from lib.subspace import MultiTaskSubspace, Subspace, make_projector
from lib.train import TrainSettings, summarise, train


def _qat_settings(exp: Experiment, tag: str) -> TrainSettings:
    c, t = exp.cfg["compression"], exp.cfg["train"]
    return TrainSettings(c["epochs"], t["batch_size"], c["lr"], 0.0, t["eval_batch_size"],
                         exp.settings(0.0, tag).seed, exp.cfg["progress"], c["optimizer"], t["amp"])


def _risk(result: dict[str, Any]) -> list[float]:
    return [1.0 - a for a in result["train_acc"]]


def _index(grid: list, value: Any, what: str) -> int:
    if value not in grid:
        raise ValueError(f"{what} = {value} is not in the profile's grid {grid}")
    return grid.index(value)


def single_task_param(exp: Experiment, d: int) -> Subspace:
    projector = make_projector(exp.model.D, d, exp.projector_seed("single", d), exp.device)
    return Subspace(exp.model.theta0, projector, exp.data.n_tasks)


def multitask_param(exp: Experiment, l: int, k: int) -> MultiTaskSubspace:
    projector = make_projector(exp.model.D, k * l, exp.projector_seed("multi", k * l), exp.device)
    return MultiTaskSubspace(exp.model.theta0, projector, exp.data.n_tasks, l, k)


def _evaluate(exp: Experiment, param, values: dict[str, torch.Tensor]) -> dict[str, Any]:
    dev = {k: v.to(exp.device, exp.model.theta0.dtype) for k, v in values.items()}
    out = summarise(exp.model, param, dev, exp.data, exp.cfg["train"]["eval_batch_size"])
    out.pop("params")
    return out


# ------------------------------------------------------------------ single task

def _single_header(exp: Experiment, d: int, lr: float, r: int) -> list[tuple[int, int]]:
    grids = exp.cfg
    return [(_index(grids["intrinsic_dim"]["d_grid"], d, "d"), len(grids["intrinsic_dim"]["d_grid"])),
            (_index(grids["train"]["lrs"], lr, "lr"), len(grids["train"]["lrs"])),
            (_index(grids["compression"]["single_r_grid"], r, "r"), len(grids["compression"]["single_r_grid"]))]


def encode_single_task(header: list[tuple[int, int]], codebook: np.ndarray, indices: np.ndarray) -> coding.Encoded:
    """One task's code: header (d, lr, r) + its codebook, counts and arithmetic-coded indices."""
    return coding.encode(header, [coding.Section("w", indices, codebook.size, codebook)])


def decode_single_task(data: bytes, header_sizes: list[int], d_grid: list[int], r_grid: list[int]) -> np.ndarray:
    """The decoded w of one task (codebook[indices]), from its bytes alone."""
    values, [(book, idx)] = coding.decode(
        data, header_sizes, lambda h: [("w", d_grid[h[0]], r_grid[h[2]], True)])
    return book[idx]


def compress_single(exp: Experiment, d: int, lr: float, r: int) -> dict[str, Any]:
    """Quantise, fine-tune, encode and bound single-task models at codebook size r (cached)."""
    def compute() -> dict[str, Any]:
        trained = exp.train_subspace(d, lr)
        param = single_task_param(exp, d)
        n = exp.data.n_tasks
        groups = {"w": n}
        init = start_quantised({"w": trained["params"]["w"].to(exp.device)}, groups, r)
        before = _evaluate(exp, param, {"w": harden(init, groups)["w"]["values"]})
        tuned = train(exp.model, Quantised(param, init, groups), exp.data, _qat_settings(exp, f"qat-single-{d}-{r}"),
                      f"{exp.name} QAT d={d} r={r}")
        hard = harden(tuned["params"], groups)["w"]
        header = _single_header(exp, d, lr, r)
        sizes = [s for _, s in header]
        bits, decoded, breakdown = [], [], []
        for j in range(n):
            enc = encode_single_task(header, hard["codebooks"][j].numpy(), hard["indices"][j].numpy())
            bits.append(enc.bits)
            breakdown.append(enc.breakdown)
            decoded.append(decode_single_task(enc.data, sizes, exp.cfg["intrinsic_dim"]["d_grid"],
                                              exp.cfg["compression"]["single_r_grid"]))
        after = _evaluate(exp, param, {"w": torch.as_tensor(np.stack(decoded))})
        risks = _risk(after)
        delta = exp.cfg["compression"]["delta"]
        per_task = [bounds.mtl_kl_bound(rk, 0.0, b, exp.data.m, 1, delta / n) for rk, b in zip(risks, bits)]
        return {"d": d, "lr": lr, "r": r, "before_train_acc": before["mean_train_acc"],
                "before_test_acc": before["mean_test_acc"], "train_acc": after["mean_train_acc"],
                "test_acc": after["mean_test_acc"], "risks": risks, "bits": bits, "bounds": per_task,
                "bound": sum(per_task) / n, "mean_bits": sum(bits) / n, "breakdown": _mean_breakdown(breakdown)}
    return exp.cached_result({"kind": "compress-single", "d": d, "lr": lr, "r": r, "qat": exp.cfg["compression"]},
                       compute)


def _mean_breakdown(items: list[dict[str, int]]) -> dict[str, float]:
    return {k: sum(b[k] for b in items) / len(items) for k in items[0]}


# ------------------------------------------------------------------ multi-task

def _meta_header(exp: Experiment, l: int, k: int, lr: float, r_g: int, r_l: int) -> list[tuple[int, int]]:
    c, mt = exp.cfg["compression"], exp.cfg["multitask"]
    return [(_index(mt["l_grid"], l, "l"), len(mt["l_grid"])), (_index(mt["k_grid"], k, "k"), len(mt["k_grid"])),
            (_index(exp.cfg["train"]["lrs"], lr, "lr"), len(exp.cfg["train"]["lrs"])),
            (_index(c["r_g_grid"], r_g, "r_g"), len(c["r_g_grid"])),
            (_index(c["r_l_grid"], r_l, "r_l"), len(c["r_l_grid"]))]


def mtl_stage1(exp: Experiment, l: int, k: int, lr: float, r_g: int) -> dict[str, Any]:
    """Quantise V (codebook r_g) and fine-tune it with the alphas still continuous (cached)."""
    def compute() -> dict[str, Any]:
        trained = exp.train_multitask(l, k, lr)
        param = multitask_param(exp, l, k)
        groups = {"V": 1}
        start = {name: v.to(exp.device) for name, v in trained["params"].items()}
        init = start_quantised(start, groups, r_g)
        before = _evaluate(exp, param, {"V": harden(init, groups)["V"]["values"], "alpha": start["alpha"]})
        tuned = train(exp.model, Quantised(param, init, groups), exp.data, _qat_settings(exp, f"qat-V-{l}-{k}-{r_g}"),
                      f"{exp.name} QAT V r_g={r_g}")
        hard = harden(tuned["params"], groups)["V"]
        return {"codebook": hard["codebooks"][0], "indices": hard["indices"][0], "V": hard["values"],
                "alpha": tuned["params"]["alpha"].cpu(), "before_train_acc": before["mean_train_acc"],
                "before_test_acc": before["mean_test_acc"], "after_train_acc": tuned["mean_train_acc"],
                "after_test_acc": tuned["mean_test_acc"]}
    return exp.cached_result({"kind": "compress-mtl-V", "l": l, "k": k, "lr": lr, "r_g": r_g,
                        "qat": exp.cfg["compression"]}, compute)


def decode_multitask(meta: bytes, tasks: bytes, exp_cfg: dict[str, Any], n: int) -> dict[str, np.ndarray]:
    """V (l, k) and alpha (n, k) from the two codes alone, as a decoder holding the grids would."""
    c, mt = exp_cfg["compression"], exp_cfg["multitask"]
    sizes = [len(mt["l_grid"]), len(mt["k_grid"]), len(exp_cfg["train"]["lrs"]), len(c["r_g_grid"]), len(c["r_l_grid"])]
    h, [(book_v, idx_v)] = coding.decode(
        meta, sizes, lambda h: [("V", mt["l_grid"][h[0]] * mt["k_grid"][h[1]], c["r_g_grid"][h[3]], True)])
    l, k, r_l = mt["l_grid"][h[0]], mt["k_grid"][h[1]], c["r_l_grid"][h[4]]
    _, [(book_a, idx_a)] = coding.decode(tasks, [], lambda _: [("alpha", n * k, r_l, True)])
    return {"V": book_v[idx_v].reshape(l, k), "alpha": book_a[idx_a].reshape(n, k), "header": h,
            "alpha_codebook": book_a}


def compress_multitask(exp: Experiment, l: int, k: int, lr: float, r_g: int, r_l: int) -> dict[str, Any]:
    """Stage 2 (alphas, codebook r_l, V frozen as decoded), encoding, decoding and bounds (cached)."""
    def compute() -> dict[str, Any]:
        s1 = mtl_stage1(exp, l, k, lr, r_g)
        param = multitask_param(exp, l, k)
        groups = {"alpha": 1}
        v_fixed = s1["V"].to(exp.device, exp.model.theta0.dtype)
        init = start_quantised({"alpha": s1["alpha"].to(exp.device)}, groups, r_l)
        before = _evaluate(exp, param, {"V": v_fixed, "alpha": harden(init, groups)["alpha"]["values"]})
        tuned = train(exp.model, Quantised(param, init, groups, fixed={"V": v_fixed}), exp.data,
                      _qat_settings(exp, f"qat-alpha-{l}-{k}-{r_g}-{r_l}"), f"{exp.name} QAT alpha r_l={r_l}")
        hard = harden(tuned["params"], groups)["alpha"]
        meta = coding.encode(_meta_header(exp, l, k, lr, r_g, r_l),
                             [coding.Section("V", s1["indices"].numpy(), r_g, s1["codebook"].numpy())])
        tasks = coding.encode([], [coding.Section("alpha", hard["indices"][0].numpy(), r_l,
                                                  hard["codebooks"][0].numpy())])
        n = exp.data.n_tasks
        dec = decode_multitask(meta.data, tasks.data, exp.cfg, n)
        after = _evaluate(exp, param, {"V": torch.as_tensor(dec["V"]), "alpha": torch.as_tensor(dec["alpha"])})
        separate = separate_task_bits(hard["indices"][0].numpy().reshape(n, k), r_l)
        risk = 1.0 - after["mean_train_acc"]
        m, delta = exp.data.m, exp.cfg["compression"]["delta"]
        args = (risk, meta.bits, tasks.bits, m, n, delta)
        return {"l": l, "k": k, "lr": lr, "r_g": r_g, "r_l": r_l, "n": n, "m": m,
                "before_train_acc": before["mean_train_acc"], "before_test_acc": before["mean_test_acc"],
                "train_acc": after["mean_train_acc"], "test_acc": after["mean_test_acc"], "risk": risk,
                "meta_bits": meta.bits, "task_bits": tasks.bits, "avg_bits": (meta.bits + tasks.bits) / n,
                "separate_task_bits": separate, "breakdown": {**meta.breakdown, **{f"tasks.{k_}": v for k_, v in
                                                                                  tasks.breakdown.items()}},
                "thm2": bounds.mtl_hoeffding_bound(*args), "thm3": bounds.mtl_kl_bound(*args),
                "pinsker": bounds.mtl_pinsker_bound(*args), "stage1": {key: s1[key] for key in (
                    "before_train_acc", "before_test_acc", "after_train_acc", "after_test_acc")},
                "meta_bytes": meta.data, "task_bytes": tasks.data,
                "V_values": s1["V"], "alpha_values": hard["values"].reshape(n, k)}
    return exp.cached_result({"kind": "compress-mtl", "l": l, "k": k, "lr": lr, "r_g": r_g, "r_l": r_l,
                        "qat": exp.cfg["compression"]}, compute)


def separate_task_bits(indices: np.ndarray, r_l: int) -> int:
    """Section 5.3.1's comparison: each task's alpha indices coded on its own (own counts and
    arithmetic code) plus the shared codebook sent once, summed over tasks."""
    per_task = sum(coding.encode([], [coding.Section(f"task{j}", row, r_l)]).bits for j, row in enumerate(indices))
    return per_task + r_l * coding.FLOAT_BITS


# ------------------------------------------------------------------ choices and study

def _metrics(run: dict[str, Any]) -> dict[str, Any]:
    return {key: run[key] for key in ("train_acc", "test_acc", "mean_train_acc", "mean_test_acc")}


def choose_single(exp: Experiment, d: int, lr: float) -> dict[str, Any]:
    """Codebook size r minimising the average single-task bound (training data only)."""
    runs = [compress_single(exp, d, lr, r) for r in exp.cfg["compression"]["single_r_grid"]]
    return {"runs": runs, "chosen": min(runs, key=lambda run: run["bound"])}


def choose_multitask(exp: Experiment, l: int, k: int, lr: float) -> dict[str, Any]:
    """(r_g, r_l) minimising the Theorem-3 bound (training data only)."""
    c = exp.cfg["compression"]
    runs = [compress_multitask(exp, l, k, lr, r_g, r_l) for r_g in c["r_g_grid"] for r_l in c["r_l_grid"]]
    return {"runs": runs, "chosen": min(runs, key=lambda run: run["thm3"])}


def _operating_point(search: dict[str, Any], key: str) -> tuple[int, ...]:
    """The searched winner, or the most accurate evaluated point if the target was not reached."""
    if search[key]["reached"]:
        return tuple(search[key]["best"])
    return tuple(max(search[key]["evaluated"], key=lambda p: p[-1])[:-1])


def compression_study(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """Notebooks 04-07: single-task models at d = ID_90 and multi-task models at the AID_90 (l, k),
    quantised, encoded, decoded and bounded. If a target was not reached, the most accurate
    evaluated point stands in (and ``*_reached`` says so)."""
    from lib.experiments import aid_search

    search = aid_search(cfg, name)
    exp = Experiment(cfg, name)
    (d,) = _operating_point(search, "id")
    l, k = _operating_point(search, "aid")
    single = choose_single(exp, d, exp.best_subspace(d)["lr"])
    mtl = choose_multitask(exp, l, k, exp.best_multitask(l, k)["lr"])
    return {"experiment": name, "benchmark": exp.exp["benchmark"], "model": exp.exp["model"],
            "n": exp.data.n_tasks, "m": exp.data.m, "D": exp.model.D, "delta": cfg["compression"]["delta"],
            "num_classes": exp.data.num_classes, "d": d, "lk": [l, k],
            "unquantised": {key: _metrics(run) for key, run in (
                ("single", exp.best_subspace(d)), ("mtl", exp.best_multitask(l, k)), ("full", exp.train_full()))},
            "id_reached": search["id"]["reached"], "aid_reached": search["aid"]["reached"],
            "single": single, "mtl": mtl}


def anatomy(study: dict[str, Any], m_values: list[int] | None = None,
            n_values: list[int] | None = None) -> dict[str, Any]:
    """Notebook 07: where the bound comes from, for one experiment's compression study.

    * codes: naive 32-bit full weights (32 D n bits; the O(sqrt(D/m)) regime), 32-bit subspace
      coordinates (32 (lk + nk) bits; O(sqrt(AID/m))), and the quantised arithmetic-coded code;
      each with its model's training risk, bounded by Thm 2, Thm 3 and Pinsker (Eq. 9).
    * scaling: the chosen code's Thm-2/Thm-3 bounds if m or n changed with everything else
      fixed (per-task bits l_E / n held constant when n changes).
    """
    n, m, delta, D = study["n"], study["m"], study["delta"], study["D"]
    mtl = study["mtl"]["chosen"]
    l, k = study["lk"]
    unq = study["unquantised"]
    codes = {
        "32-bit full weights": (1 - unq["full"]["mean_train_acc"], 0, coding.naive_bits(D * n)),
        "32-bit subspace coordinates": (1 - unq["mtl"]["mean_train_acc"], coding.naive_bits(l * k),
                                        coding.naive_bits(n * k)),
        "quantised + arithmetic coded": (mtl["risk"], mtl["meta_bits"], mtl["task_bits"]),
    }
    rows = {}
    for name, (risk, meta, tasks) in codes.items():
        args = (risk, meta, tasks, m, n, delta)
        rows[name] = {"risk": risk, "meta_bits": meta, "task_bits": tasks, "bits_per_task": (meta + tasks) / n,
                      "thm2": bounds.mtl_hoeffding_bound(*args), "thm3": bounds.mtl_kl_bound(*args),
                      "pinsker": bounds.mtl_pinsker_bound(*args)}
    m_values = m_values or sorted({100, 300, 1000, 3000, 10000, 30000, m})
    n_values = n_values or sorted({2, 5, 10, 30, 100, 300, n})
    per_task = mtl["task_bits"] / n
    args_m = [(mtl["risk"], mtl["meta_bits"], mtl["task_bits"], mm, n, delta) for mm in m_values]
    args_n = [(mtl["risk"], mtl["meta_bits"], per_task * nn, m, nn, delta) for nn in n_values]
    breakdown = mtl["breakdown"]
    return {
        "codes": rows,
        "vs_m": {"m": m_values, "thm2": [bounds.mtl_hoeffding_bound(*a) for a in args_m],
                 "thm3": [bounds.mtl_kl_bound(*a) for a in args_m]},
        "vs_n": {"n": n_values, "thm2": [bounds.mtl_hoeffding_bound(*a) for a in args_n],
                 "thm3": [bounds.mtl_kl_bound(*a) for a in args_n]},
        "dominant_component": max(breakdown, key=breakdown.get),
        "breakdown": breakdown,
    }
