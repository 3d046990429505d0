"""Diagonals of the loss Hessian, three ways (used by OBD), and Hessian-vector products.

* ``exact``: ``H_ii`` from one Hessian-vector product ``H e_i`` per weight (for tiny nets only).
* ``hutchinson``: Bekas, Kokiopoulou & Saad, "An estimator for the diagonal of a matrix", 2007:
  diag(H) ≈ mean_k z_k ⊙ (H z_k), z_k Rademacher (±1), ``samples`` products, seeded.
* ``gauss-newton``: the diagonal of the generalised Gauss-Newton matrix ``G = Jᵀ H_out J`` (what
  LeCun et al. approximate in OBD). For softmax cross-entropy
  ``H_out = diag(p) - p pᵀ = Σ_c v_c v_cᵀ`` with ``v_c = √p_c (e_c - p)``, so
  G_ii = (1/N) Σ_n Σ_c (∂(v_{n,c}·f(x_n)) / ∂θ_i)², exact, always >= 0.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .base import Batch, loss_grads, per_sample_square_grads

METHODS = ("gauss-newton", "hutchinson", "exact")
EXACT_LIMIT = 5000  # weights: the exact diagonal costs one backward pass per weight


def hvp(leaves: dict, grads: dict, vec: dict) -> dict:
    """``H v`` from gradients built with ``create_graph=True``."""
    names = list(leaves)
    dot = sum((grads[n] * vec[n]).sum() for n in names)
    out = torch.autograd.grad(dot, [leaves[n] for n in names], retain_graph=True, allow_unused=True)
    return {n: torch.zeros_like(leaves[n]) if o is None else o.detach() for n, o in zip(names, out)}


def hessian_diagonal(model: nn.Module, names: list[str], batch: Batch, loss_fn=None, *,
                     method: str = "gauss-newton", samples: int = 32, seed: int = 0,
                     chunk: int = 32) -> dict[str, torch.Tensor]:
    """Diagonal of the Hessian of the mean loss over `batch` w.r.t. `names` (see module doc)."""
    if method not in METHODS:
        raise ConfigError(f"unknown Hessian method {method!r}; valid methods: {', '.join(METHODS)}")
    if method == "gauss-newton":
        if loss_fn is not None:
            raise ConfigError("method 'gauss-newton' assumes softmax cross-entropy; use "
                              "method='hutchinson' or 'exact' with a custom loss_fn")
        return _gauss_newton(model, names, batch, chunk)
    leaves, grads, _ = loss_grads(model, names, batch, loss_fn, create_graph=True)
    if method == "hutchinson":
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise ConfigError(f"samples must be a positive integer, got {samples!r}")
        g = torch.Generator().manual_seed(int(seed))
        acc = {n: torch.zeros_like(leaves[n]) for n in names}
        for _ in range(samples):
            z = {n: (torch.randint(0, 2, leaves[n].shape, generator=g) * 2 - 1).to(leaves[n])
                 for n in names}
            hz = hvp(leaves, grads, z)
            for n in names:
                acc[n] += z[n] * hz[n]
        return {n: a / samples for n, a in acc.items()}
    total = sum(leaves[n].numel() for n in names)
    if total > EXACT_LIMIT:
        raise ConfigError(f"method 'exact' costs one backward pass per weight and is limited to "
                          f"{EXACT_LIMIT} weights; these layers have {total}: use 'gauss-newton' or 'hutchinson'")
    diag = {}
    for n in names:
        d = torch.zeros(leaves[n].numel())
        flat = grads[n].reshape(-1)
        for i in range(flat.numel()):
            (row,) = torch.autograd.grad(flat[i], [leaves[n]], retain_graph=True, allow_unused=True)
            d[i] = 0.0 if row is None else row.reshape(-1)[i]
        diag[n] = d.reshape(leaves[n].shape).to(leaves[n])
    return diag


def _gauss_newton(model: nn.Module, names: list[str], batch: Batch, chunk: int) -> dict[str, torch.Tensor]:
    x, _ = batch
    with torch.no_grad():
        p = F.softmax(model(x), dim=1)  # (N, C)
    C = p.shape[1]
    total = None
    for c in range(C):
        e = torch.zeros_like(p)
        e[:, c] = 1.0
        v = p[:, c:c + 1].sqrt() * (e - p)  # (N, C): v_{n,c}

        def scalar(out, vv):
            return (out * vv).sum()

        sq = per_sample_square_grads(model, names, (x, v), scalar, chunk=chunk)
        total = sq if total is None else {n: total[n] + sq[n] for n in names}
    return {n: t / x.shape[0] for n, t in total.items()}
