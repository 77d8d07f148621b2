"""Random subspaces of the weight space and the functional network forward.

Kronecker projector (Lotfi et al., 2022; paper Appendix B.2):
``P = (Q1 kron Q2)[:D, :d] / sqrt(D)`` with ``Q1, Q2 ~ N(0, 1)`` of shape
``ceil(sqrt(D)) x ceil(sqrt(d))``: the Kronecker product is padded to square
factors, then truncated to D rows and d columns. ``P`` is never materialised:
for row-major ``vec``, ``(Q1 kron Q2) vec(W) = vec(Q1 W Q2^T)``, so
``P w = vec(Q1 W Q2^T)[:D] / sqrt(D)`` with ``W`` the zero-padded, reshaped ``w``.
Every column of ``P`` has unit squared norm in expectation.

Parametrisations map trainable tensors to the weights of all n tasks at once,
an ``(n, D)`` tensor ``Theta``:

* :class:`FullSpace`      -- theta_j trained directly (the full-model baseline).
* :class:`Subspace`       -- theta_j = theta_0 + P w_j (Eq. 1), one P for all tasks.
* :class:`MultiTaskSubspace` -- theta_j = theta_0 + Q' u_j with
  ``Q' = [P_1 ... P_k] = (Q1' kron Q2')[:D, :kl] / sqrt(D)`` and
  ``u_j = vec(V diag(alpha_j))`` (Eqs. 2-3), computed as ``theta_0 + Q alpha_j``
  with ``Q = [P_1 v_1, ..., P_k v_k]`` (one projection per basis element, then a
  single ``(n, k) @ (k, D)`` matmul for all tasks).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn
from torch.func import functional_call, vmap

from lib import grouped


def derive_seed(seed: int, *tags: object) -> int:
    """A 63-bit seed derived from a master seed and tags, so each random object has its own stream."""
    digest = hashlib.sha256(repr((seed, *tags)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class _KroneckerRows(torch.autograd.Function):
    """``out_j = vec(q1 @ T_j)[:D] (+ offset)`` for ``T`` (n, b, a), written straight into an (n, D) tensor.

    ``vec(q1 T_j)`` has ``a*a >= D`` entries; instead of computing all of them and
    slicing (whose backward zero-fills an (n, a*a) gradient) the ``D // a`` complete
    rows go into a strided view of the output and the partial last row is a small
    matmul. This is the O(n * D * b) step that dominates the projection at large D
    (measured in ``bench/projector.py``); everything before it is O(n * b * a).
    """

    @staticmethod
    def forward(ctx, T: torch.Tensor, q1: torch.Tensor, D: int, offset: torch.Tensor | None) -> torch.Tensor:
        n, _, a = T.shape
        full, rest = divmod(D, a)
        out = torch.empty(n, D, dtype=T.dtype, device=T.device)
        torch.matmul(q1[:full], T, out=out[:, : full * a].view(n, full, a))
        if rest:
            out[:, full * a:] = (q1[full] @ T)[:, :rest]
        if offset is not None:
            out += offset
        ctx.save_for_backward(q1)
        ctx.dims = (D, full, rest, None if offset is None else offset.shape)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (q1,) = ctx.saved_tensors
        D, full, rest, offset_shape = ctx.dims
        n = grad.shape[0]
        a = q1.shape[0]
        grad_T = grad_offset = None
        if ctx.needs_input_grad[0]:
            grad = grad.contiguous()
            grad_T = torch.matmul(q1[:full].T, grad[:, : full * a].view(n, full, a))
            if rest:
                grad_T[:, :, :rest] += q1[full][None, :, None] * grad[:, None, full * a:]
        if ctx.needs_input_grad[1]:
            raise RuntimeError("the projector's factors are fixed; no gradient w.r.t. them")
        if ctx.needs_input_grad[3]:
            grad_offset = grad.sum_to_size(offset_shape)
        return grad_T, None, None, grad_offset


@dataclass(frozen=True)
class KroneckerProjector:
    """``P in R^{D x d}`` stored as its two Kronecker factors."""

    q1: torch.Tensor  # (a, b) with a = ceil(sqrt(D)), b = ceil(sqrt(d))
    q2: torch.Tensor  # (a, b)
    D: int
    d: int

    def __call__(self, w: torch.Tensor, offset: torch.Tensor | None = None) -> torch.Tensor:
        """``offset + P w`` for ``w`` of shape ``(..., d)``; returns ``(..., D)``.

        ``offset`` (e.g. theta_0, shape (D,) or broadcastable to the result) is added
        in place into the freshly written result instead of in a second full-size pass.
        """
        b = self.q1.shape[1]
        lead = w.shape[:-1]
        w = w.reshape(-1, self.d) / math.sqrt(self.D)  # the scale on the small side
        padded = torch.nn.functional.pad(w, (0, b * b - self.d)).reshape(-1, b, b)
        T = padded @ self.q2.T  # (batch, b, a): W_j Q2^T
        if offset is not None:
            offset = offset.reshape(-1, self.D) if offset.dim() > 1 else offset
        out = _KroneckerRows.apply(T, self.q1, self.D, offset)
        return out.reshape(*lead, self.D)

    def dense(self) -> torch.Tensor:
        """The materialised ``D x d`` matrix; for tests on small sizes only."""
        return torch.kron(self.q1, self.q2)[: self.D, : self.d] / math.sqrt(self.D)


def make_projector(
    D: int, d: int, seed: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
) -> KroneckerProjector:
    """Draw the factors on the CPU from ``seed`` (same P on every device), then move them."""
    if D <= 0 or d <= 0:
        raise ValueError(f"projector needs D > 0 and d > 0, got D={D}, d={d}")
    a, b = math.isqrt(D - 1) + 1, math.isqrt(d - 1) + 1
    gen = torch.Generator().manual_seed(seed)
    q1 = torch.randn(a, b, generator=gen, dtype=torch.float64)
    q2 = torch.randn(a, b, generator=gen, dtype=torch.float64)
    return KroneckerProjector(q1.to(device, dtype), q2.to(device, dtype), D, d)


@dataclass(frozen=True)
class FlatModel:
    """A network evaluated at an arbitrary flat weight vector (torch.func)."""

    module: nn.Module
    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]
    theta0: torch.Tensor  # (D,) the initialisation
    grouped: bool = False  # run all tasks through lib.grouped instead of vmap

    @property
    def D(self) -> int:
        return self.theta0.numel()

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        out, offset = {}, 0
        for name, shape in zip(self.names, self.shapes):
            size = math.prod(shape)
            out[name] = theta[offset: offset + size].view(shape)
            offset += size
        return out

    def forward(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Logits of the network with flat weights ``theta`` (D,) on inputs ``x``."""
        return functional_call(self.module, self.unflatten(theta), (x,))

    def forward_tasks(self, thetas: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
        """All tasks in one call: ``thetas`` (n, D), ``xs`` (n, B, ...) -> logits (n, B, C).

        Plain Sequential models run through grouped convolutions (``lib.grouped``),
        anything else through ``vmap(functional_call)``.
        """
        if self.grouped:
            return grouped.forward_tasks(self.module, self.unflatten_tasks(thetas), xs)
        return vmap(self.forward)(thetas, xs)

    def unflatten_tasks(self, thetas: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-parameter views with a leading task dimension: name -> (n, *shape)."""
        out, offset = {}, 0
        for name, shape in zip(self.names, self.shapes):
            size = math.prod(shape)
            out[name] = thetas[:, offset: offset + size].reshape(thetas.shape[0], *shape)
            offset += size
        return out


def flat_model(module: nn.Module, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> FlatModel:
    """Wrap ``module``; its current parameters become theta_0."""
    module = module.to(device=device, dtype=dtype)
    params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    theta0 = torch.cat([p.detach().reshape(-1) for _, p in params]).clone()
    return FlatModel(module, tuple(n for n, _ in params), tuple(p.shape for _, p in params), theta0,
                     grouped.supports(module))


class Parametrisation(Protocol):
    """Maps trainable tensors to the weights of all n tasks, ``(n, D)``."""

    def init_params(self, seed: int) -> dict[str, torch.Tensor]: ...

    def thetas(self, params: dict[str, torch.Tensor]) -> torch.Tensor: ...


@dataclass(frozen=True)
class FullSpace:
    """Each task trains all D weights, starting from theta_0 (the baseline A of Definition 1)."""

    theta0: torch.Tensor
    n_tasks: int

    def init_params(self, seed: int) -> dict[str, torch.Tensor]:
        return {"theta": self.theta0.repeat(self.n_tasks, 1)}

    def thetas(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        return params["theta"]


@dataclass(frozen=True)
class Subspace:
    """Single-task learning in one random d-dimensional subspace: theta_j = theta_0 + P w_j (Eq. 1)."""

    theta0: torch.Tensor
    projector: KroneckerProjector
    n_tasks: int

    def init_params(self, seed: int) -> dict[str, torch.Tensor]:
        return {"w": torch.zeros(self.n_tasks, self.projector.d, device=self.theta0.device, dtype=self.theta0.dtype)}

    def thetas(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.projector(params["w"], self.theta0)


def block_diagonal_codes(V: torch.Tensor) -> torch.Tensor:
    """Rows ``e_i kron v_i`` (k, k*l): the coordinates of basis element i in Q' (column-major vec)."""
    l, k = V.shape
    eye = torch.eye(k, device=V.device, dtype=V.dtype)
    return (eye[:, :, None] * V.T[:, None, :]).reshape(k, k * l)


def task_codes(V: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``u_j = vec(V diag(alpha_j))`` for all tasks, (n, k*l); the paper's Eq. (3) coordinates."""
    return (V[None, :, :] * alpha[:, None, :]).transpose(1, 2).reshape(alpha.shape[0], -1)


@dataclass(frozen=True)
class MultiTaskSubspace:
    """Shared basis V (l x k) and per-task coefficients alpha (n x k): theta_j = theta_0 + Q alpha_j.

    Initialisation: V = 0 (so every task starts at theta_0, as in single-task
    subspace training) and alpha_j ~ N(0, 1/k); with V = 0 the gradient reaches V
    through alpha, and the 1/k variance keeps the initial step size independent of k.
    """

    theta0: torch.Tensor
    projector: KroneckerProjector  # d = k * l
    n_tasks: int
    l: int
    k: int

    def init_params(self, seed: int) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        alpha = torch.randn(self.n_tasks, self.k, generator=gen, dtype=torch.float64) / math.sqrt(self.k)
        dev, dt = self.theta0.device, self.theta0.dtype
        return {"V": torch.zeros(self.l, self.k, device=dev, dtype=dt), "alpha": alpha.to(dev, dt)}

    def basis(self, V: torch.Tensor) -> torch.Tensor:
        """``Q^T = [P_1 v_1, ..., P_k v_k]^T`` as a (k, D) tensor."""
        return self.projector(block_diagonal_codes(V))

    def thetas(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """``theta_0 + Q alpha_j`` for all tasks, by whichever of two equal routes projects fewer vectors:
        k basis vectors then one (n, k) @ (k, D) matmul, or (when k >= n) the n task codes u_j of Eq. (3)."""
        V, alpha = params["V"], params["alpha"]
        if self.k >= self.n_tasks:
            return self.projector(task_codes(V, alpha), self.theta0)
        return torch.addmm(self.theta0, alpha, self.basis(V))
