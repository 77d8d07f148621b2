"""Transfer to new tasks on top of the multi-task representation (Section 5.4, Eq. 7, Table 3).

A held-out task (never seen by the multi-task stage) learns theta = theta_0 + Q alpha + P w:
Q (k x D) is the decoded multi-task basis, fixed and known to the decoder (its bits are
not paid again: it was learned without this task's data), P a fresh random k'-dimensional
Kronecker projector, and u = [alpha, w] the task's only parameters.

Each task's code (Theorem 1 in its kl form, at delta / #tasks so the average over the
held-out tasks holds) is: header (k' from the profile's grid; the codebook option, one of
"transfer the multi-task alpha codebook" or a new codebook of size r from the single-task
grid, ceil(log2(1 + |r grid|)) bits), the new codebook if any, counts and arithmetic-coded
indices. Each task picks its own (k', option) by its own bound, i.e. on its training data,
and pays for the pick in its header.

The baseline ("no transfer") learns the same held-out tasks from scratch in their own
subspace (d = the single-task ID_90 point), coded and bounded the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lib import bounds, coding
from lib.compress import (_evaluate, _qat_settings, _risk, choose_single, compression_study, decode_multitask,
                          multitask_param)
from lib.experiments import Experiment
from lib.quantize import Quantised, codebook_key, harden, start_quantised
from lib.subspace import KroneckerProjector, make_projector
from lib.train import train


@dataclass(frozen=True)
class TransferSubspace:
    """theta_j = theta_0 + u_j[:k] @ Q + P u_j[k:] with Q fixed; u_j starts at 0 (theta_0)."""

    theta0: torch.Tensor
    basis: torch.Tensor                      # (k, D), the multi-task Q^T
    projector: KroneckerProjector | None     # D x k', None for k' = 0
    n_tasks: int

    @property
    def dim(self) -> int:
        return self.basis.shape[0] + (self.projector.d if self.projector is not None else 0)

    def init_params(self, seed: int) -> dict[str, torch.Tensor]:
        return {"u": torch.zeros(self.n_tasks, self.dim, device=self.theta0.device, dtype=self.theta0.dtype)}

    def thetas(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        k = self.basis.shape[0]
        u = params["u"]
        out = torch.addmm(self.theta0, u[:, :k], self.basis)
        return out if self.projector is None else self.projector(u[:, k:], out)


def heldout_experiment(cfg: dict[str, Any], name: str) -> Experiment:
    """The profile's held-out tasks: tasks n .. n + transfer.n_tasks - 1 of the benchmark."""
    n = cfg["experiments"][name]["n_tasks"]
    return Experiment(cfg, name, first_task=n, n_tasks=cfg["transfer"]["n_tasks"])


def _options(cfg: dict[str, Any]) -> list[str | int]:
    return ["transfer", *cfg["compression"]["single_r_grid"]]


def _transfer_param(main: Experiment, held: Experiment, basis: torch.Tensor, kp: int) -> TransferSubspace:
    proj = (make_projector(main.model.D, kp, main.projector_seed("transfer", kp), main.device) if kp else None)
    return TransferSubspace(held.model.theta0, basis.to(held.device, held.model.theta0.dtype), proj, held.data.n_tasks)


def decode_transfer_task(data: bytes, cfg: dict[str, Any], k: int, alpha_codebook: np.ndarray) -> np.ndarray:
    """One held-out task's u = [alpha, w] from its bytes (and the decoder's Q and alpha codebook)."""
    kps, options = cfg["transfer"]["kprime_grid"], _options(cfg)

    def layout(h: list[int]) -> list[tuple[str, int, int, bool]]:
        option = options[h[1]]
        r = alpha_codebook.size if option == "transfer" else option
        return [("u", k + kps[h[0]], r, option != "transfer")]

    h, [(book, idx)] = coding.decode(data, [len(kps), len(options)], layout)
    return (alpha_codebook if book is None else book)[idx]


def transfer_study(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """Notebook 08 / Table 3: per held-out task, the no-transfer and the transfer bound."""
    study = compression_study(cfg, name)
    main, held = Experiment(cfg, name), heldout_experiment(cfg, name)
    mtl = study["mtl"]["chosen"]
    l, k = study["lk"]
    dec = decode_multitask(mtl["meta_bytes"], mtl["task_bytes"], cfg, study["n"])
    basis = multitask_param(main, l, k).basis(torch.as_tensor(dec["V"]).to(main.device, main.model.theta0.dtype))
    alpha_book = dec["alpha_codebook"]
    lr = mtl["lr"]
    d = study["d"]
    no_transfer = choose_single(held, d, main.best_subspace(d)["lr"])

    candidates = [_transfer_candidate(main, held, basis, alpha_book, kp, lr, option, mtl)
                  for kp in cfg["transfer"]["kprime_grid"] for option in _options(cfg)]
    n_t = held.data.n_tasks
    picks = [min(range(len(candidates)), key=lambda c: candidates[c]["bounds"][j]) for j in range(n_t)]
    transfer = {key: [candidates[c][key][j] for j, c in enumerate(picks)]
                for key in ("bounds", "bits", "risks", "test_acc")}
    transfer["choice"] = [{"kprime": candidates[c]["kprime"], "codebook": candidates[c]["option"]} for c in picks]
    nt = no_transfer["chosen"]
    return {
        "experiment": name, "benchmark": study["benchmark"], "model": study["model"], "n_heldout": n_t,
        "first_heldout_task": held.first_task, "m": held.data.m,
        "no_transfer": {"bounds": nt["bounds"], "bits": nt["bits"], "risks": nt["risks"], "r": nt["r"], "d": d,
                        "test_acc": nt["test_acc"], "bound": nt["bound"]},
        "transfer": {**transfer, "bound": float(np.mean(transfer["bounds"])),
                     "test_acc": float(np.mean(transfer["test_acc"]))},
        "candidates": [{key: c[key] for key in ("kprime", "option", "bound", "mean_bits", "train_acc")}
                       for c in candidates],
    }


def _transfer_candidate(main: Experiment, held: Experiment, basis: torch.Tensor, alpha_book: np.ndarray, kp: int,
                        lr: float, option: str | int, mtl: dict[str, Any]) -> dict[str, Any]:
    """Train (cached per k'), quantise with one codebook option, encode, decode, bound every task."""
    cfg = held.cfg
    tag = {"l": mtl["l"], "k": mtl["k"], "r_g": mtl["r_g"], "r_l": mtl["r_l"], "lr": lr, "kprime": kp}
    param = _transfer_param(main, held, basis, kp)
    k = basis.shape[0]

    def train_u() -> dict[str, Any]:
        return train(held.model, param, held.data, held.settings(lr, f"transfer-{kp}"), f"{held.name} transfer k'={kp}")

    def compute() -> dict[str, Any]:
        trained = held.cached_result({"kind": "transfer", **tag}, train_u)
        n_t = held.data.n_tasks
        groups = {"u": n_t}
        u0 = {"u": trained["params"]["u"].to(held.device)}
        fixed = {}
        if option == "transfer":
            book = torch.as_tensor(alpha_book, dtype=held.model.theta0.dtype, device=held.device).repeat(n_t, 1)
            init, fixed = u0, {codebook_key("u"): book}
        else:
            init = start_quantised(u0, groups, option)
        tuned = train(held.model, Quantised(param, init, groups, fixed), held.data,
                      _qat_settings(held, f"qat-transfer-{kp}-{option}"), f"{held.name} QAT transfer")
        hard = harden({**tuned["params"], **fixed}, groups)["u"]
        kps, options = cfg["transfer"]["kprime_grid"], _options(cfg)
        header = [(kps.index(kp), len(kps)), (options.index(option), len(options))]
        bits, decoded = [], []
        for j in range(n_t):
            book = None if option == "transfer" else hard["codebooks"][j].numpy()
            r = alpha_book.size if option == "transfer" else option
            enc = coding.encode(header, [coding.Section("u", hard["indices"][j].numpy(), r, book)])
            bits.append(enc.bits)
            decoded.append(decode_transfer_task(enc.data, cfg, k, alpha_book))
        after = _evaluate(held, param, {"u": torch.as_tensor(np.stack(decoded))})
        risks = _risk(after)
        delta = cfg["compression"]["delta"]
        per_task = [bounds.mtl_kl_bound(rk, 0.0, b, held.data.m, 1, delta / n_t) for rk, b in zip(risks, bits)]
        return {"kprime": kp, "option": option, "bounds": per_task, "bits": bits, "risks": risks,
                "test_acc": after["test_acc"], "bound": sum(per_task) / n_t, "mean_bits": sum(bits) / n_t,
                "train_acc": after["mean_train_acc"]}
    return held.cached_result({"kind": "transfer-code", **tag, "option": option, "qat": cfg["compression"]}, compute)
