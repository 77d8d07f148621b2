"""Codebook quantisation of subspace parameters and quantisation-aware fine-tuning.

* :func:`kmeans_1d`: optimal 1-D k-means by dynamic programming over the sorted
  values (deterministic, exact; rows of the DP are vectorised). Above
  ``EXACT_MAX`` values it runs the DP on quantile-binned values and refines with
  Lloyd's iterations on the full data (still deterministic).
* :func:`nearest`: index of the nearest codebook entry (ties to the lower entry).
* :class:`Quantised`: a parametrisation wrapper whose forward replaces chosen
  tensors by their nearest codebook entries with a straight-through estimator:
  the forward uses the quantised values, the gradient reaches both the latent
  values (identity) and the codebook entries (through the lookup), so codebook
  and assignments are fine-tuned together (Lotfi et al., 2022; Appendix B.3).

Quantised tensors are grouped: a tensor of shape ``(G, N)`` has ``G``
codebooks of ``r`` entries, e.g. one per task for single-task learning (G = n)
or one shared codebook (G = 1) for the basis V or the joint task coefficients.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lib.coding import to_fp16
from lib.subspace import Parametrisation

EXACT_MAX = 3000
LLOYD_ITERS = 50


def _dp_kmeans(x: np.ndarray, w: np.ndarray, r: int) -> np.ndarray:
    """Optimal weighted 1-D k-means of sorted ``x`` into ``r`` contiguous clusters; returns centres."""
    n = x.size
    cw, cwx, cwx2 = (np.concatenate([[0.0], np.cumsum(a)]) for a in (w, w * x, w * x * x))

    def cost(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Within-cluster sum of squares of x[i:j] (vectorised over index arrays)."""
        sw = cw[j] - cw[i]
        s = cwx[j] - cwx[i]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = cwx2[j] - cwx2[i] - np.where(sw > 0, s * s / np.where(sw > 0, sw, 1), 0.0)
        return np.maximum(out, 0.0)

    prev = cost(np.zeros(n + 1, dtype=int), np.arange(n + 1))  # one cluster covering x[:j]
    back = np.zeros((r, n + 1), dtype=np.int64)
    starts = np.arange(n + 1)
    for c in range(1, r):
        cur = np.full(n + 1, np.inf)
        arg = np.zeros(n + 1, dtype=np.int64)
        for lo in range(c + 1, n + 1, 512):  # rows j in chunks: (chunk, n+1) cost matrices
            js = np.arange(lo, min(lo + 512, n + 1))
            total = prev[None, :] + cost(starts[None, :], js[:, None])
            # each earlier cluster holds >= 1 value and the last cluster is non-empty
            invalid = (starts[None, :] < c) | (starts[None, :] >= js[:, None])
            total = np.where(invalid, np.inf, total)
            arg[js] = np.argmin(total, axis=1)
            cur[js] = total[np.arange(js.size), arg[js]]
        back[c], prev = arg, cur
    bounds, j = [], n
    for c in range(r - 1, 0, -1):
        i = int(back[c, j])
        bounds.append((i, j))
        j = i
    bounds.append((0, j))
    return np.array([(cwx[b] - cwx[a]) / (cw[b] - cw[a]) for a, b in reversed(bounds)])


def kmeans_1d(values: np.ndarray | torch.Tensor, r: int) -> np.ndarray:
    """``r`` sorted centres minimising the squared quantisation error of ``values``.

    With fewer distinct values than ``r`` the distinct values are returned, padded by
    repeating the largest (unused entries cost 16 bits each in the code, nothing else).
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if r < 1:
        raise ValueError(f"codebook size must be >= 1, got {r}")
    uniq, counts = np.unique(x, return_counts=True)
    if uniq.size <= r:
        return np.concatenate([uniq, np.full(r - uniq.size, uniq[-1])])
    if uniq.size <= EXACT_MAX:
        return _dp_kmeans(uniq, counts.astype(np.float64), r)
    edges = np.quantile(x, np.linspace(0, 1, EXACT_MAX + 1))
    bins = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, EXACT_MAX - 1)
    w = np.bincount(bins, minlength=EXACT_MAX).astype(np.float64)
    mean = np.bincount(bins, weights=x, minlength=EXACT_MAX) / np.maximum(w, 1)
    keep = w > 0
    centres = _dp_kmeans(mean[keep], w[keep], r)
    for _ in range(LLOYD_ITERS):
        idx = nearest(x, centres)
        sums = np.bincount(idx, weights=x, minlength=r)
        cnt = np.bincount(idx, minlength=r)
        new = np.where(cnt > 0, sums / np.maximum(cnt, 1), centres)
        if np.allclose(new, centres):
            break
        centres = np.sort(new)
    return centres


def nearest(values: np.ndarray | torch.Tensor, centres: np.ndarray | torch.Tensor):
    """Index of the nearest centre for every value (numpy or torch, batched over a leading dim if 2-D)."""
    if isinstance(values, torch.Tensor):
        return (values.unsqueeze(-1) - centres.unsqueeze(-2)).abs().argmin(-1)
    return np.abs(np.asarray(values)[..., None] - np.asarray(centres)[..., None, :]).argmin(-1)


def ste_quantise(latent: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Forward: each latent value replaced by its nearest entry of its group's codebook.
    Backward: identity to ``latent`` (straight-through), lookup gradient to ``codebook``.
    ``latent`` is (G, N), ``codebook`` (G, r)."""
    with torch.no_grad():
        idx = nearest(latent, codebook)
    return codebook.gather(1, idx) + (latent - latent.detach())


def codebook_key(name: str) -> str:
    return f"{name}@codebook"


@dataclass(frozen=True)
class Quantised:
    """Wraps a parametrisation: tensors in ``groups`` are used quantised (STE), ``fixed`` ones as given.

    ``init`` holds the starting values of everything trained here: the latent
    tensors, their codebooks under ``codebook_key(name)`` (shape (G, r)), and any
    tensor left continuous. ``groups[name]`` is G, the number of codebooks of that tensor.
    A codebook placed in ``fixed`` instead of ``init`` is used as given and not trained
    (a transferred codebook, whose bits are not paid again).
    """

    inner: Parametrisation
    init: dict[str, torch.Tensor]
    groups: dict[str, int]
    fixed: dict[str, torch.Tensor] = field(default_factory=dict)

    def init_params(self, seed: int) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.init.items()}

    def values(self, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = dict(self.fixed)
        for name, value in params.items():
            if name.endswith("@codebook"):
                continue
            if name in self.groups:
                g = self.groups[name]
                book = params.get(codebook_key(name), self.fixed.get(codebook_key(name)))
                out[name] = ste_quantise(value.reshape(g, -1), book).reshape(value.shape)
            else:
                out[name] = value
        return out

    def thetas(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.inner.thetas(self.values(params))


def start_quantised(values: dict[str, torch.Tensor], groups: dict[str, int], r: int) -> dict[str, torch.Tensor]:
    """Initial latents and k-means codebooks (G, r) for each tensor named in ``groups``."""
    out = {k: v.detach().clone() for k, v in values.items()}
    for name, g in groups.items():
        flat = values[name].detach().reshape(g, -1).double().cpu().numpy()
        books = np.stack([kmeans_1d(row, r) for row in flat])
        out[codebook_key(name)] = torch.as_tensor(books, dtype=values[name].dtype, device=values[name].device)
    return out


def harden(params: dict[str, torch.Tensor], groups: dict[str, int]) -> dict[str, Any]:
    """Final assignment: per quantised tensor, fp16-rounded codebooks (G, r), indices (G, N), and the
    quantised values a decoder reconstructs (exactly ``codebook_fp16[indices]``). ``params`` must hold
    each codebook under ``codebook_key(name)`` (add fixed ones before calling)."""
    out: dict[str, Any] = {}
    for name, g in groups.items():
        latent = params[name].detach().reshape(g, -1).cpu()
        books = torch.as_tensor(to_fp16(params[codebook_key(name)].detach().cpu().numpy()))
        books = books.to(latent.dtype)
        idx = nearest(latent, books)
        out[name] = {"codebooks": books, "indices": idx, "values": books.gather(1, idx).reshape(params[name].shape)}
    return out
