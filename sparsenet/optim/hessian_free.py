"""Hessian-free Newton (truncated Newton-CG) with Levenberg-Marquardt damping.

Martens, "Deep learning via Hessian-free optimization", ICML 2010 (after Nocedal & Wright,
Numerical Optimization, ch. 7). Each step approximately solves

    (H + λI) d = −g

by conjugate gradients from d = 0, using only Hessian-vector products (exact double backward, or
central finite differences), stopping after `cg_iters` iterations, at relative residual
`cg_tol`, or on negative curvature (pᵀ(H + λI)p ≤ 0: the quadratic is unbounded along p, so CG
keeps the last iterate, or −g on the first iteration). Then, with the reduction ratio

    ρ = (f(w + αd) − f(w)) / (q(αd) − q(0)),   q(d) = gᵀd + ½ dᵀHd,

λ ← 3/2·λ when ρ < 1/4 and λ ← 2/3·λ when ρ > 3/4 (Martens' rule). A step that raises the loss (or
makes it non-finite) is rejected: the parameters stay unchanged and λ grows.
"""
from __future__ import annotations

import math
from typing import Iterable

import torch

from ..errors import ConfigError
from .base import SecondOrderOptimizer, check_positive
from .hvp import MatVec, exact_hvp_operator, fd_hvp_operator
from .space import Closure, check_finite


def conjugate_gradient(matvec: MatVec, b: torch.Tensor, iters: int, tol: float) -> tuple[torch.Tensor, int, bool]:
    """Approximate solution of A x = b from x = 0: (x, iterations, stopped on negative curvature)."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rr = float(r @ r)
    b_norm = math.sqrt(rr)
    for i in range(iters):
        if math.sqrt(rr) <= tol * b_norm:
            return x, i, False
        ap = matvec(p)
        pap = float(p @ ap)
        if not math.isfinite(pap) or pap <= 0:
            return (x if i > 0 else b.clone()), i, True
        a = rr / pap
        x = x + a * p
        r = r - a * ap
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, iters, False


class HessianFreeNewton(SecondOrderOptimizer):
    """Newton-CG with adaptive Levenberg-Marquardt damping; `damping` is the initial λ (> 0)."""

    def __init__(self, params: Iterable, lr: float = 1.0, damping: float = 1.0, cg_iters: int = 50,
                 cg_tol: float = 1e-4, hvp: str = "exact", adapt_damping: bool = True,
                 min_damping: float = 1e-6, rel_step: float | None = None):
        check_positive("lr", lr)
        check_positive("damping", damping)
        check_positive("cg_tol", cg_tol)
        check_positive("min_damping", min_damping)
        if isinstance(cg_iters, bool) or not isinstance(cg_iters, int) or cg_iters < 1:
            raise ConfigError(f"cg_iters={cg_iters!r} must be a positive integer")
        if hvp not in ("exact", "fd"):
            raise ConfigError(f"hvp={hvp!r}; valid choices: exact, fd")
        super().__init__(params, dict(lr=lr, damping=damping))
        self.lr, self.damping, self.cg_iters, self.cg_tol = float(lr), float(damping), cg_iters, float(cg_tol)
        self.hvp, self.adapt_damping, self.min_damping, self.rel_step = hvp, adapt_damping, float(min_damping), rel_step

    def step(self, closure: Closure | None = None) -> torch.Tensor:  # type: ignore[override]
        space = self.space
        if self.hvp == "exact":
            loss, g, hv = exact_hvp_operator(closure, space)
        else:
            loss, g, hv = fd_hvp_operator(closure, space, self.rel_step)
        lam = self.damping
        d, iters, negative = conjugate_gradient(lambda v: hv(v) + lam * v, -g, self.cg_iters, self.cg_tol)
        d = self.lr * d
        check_finite(d, "proposed step")
        predicted = float(g @ d) + 0.5 * float(d @ hv(d))
        saved = space.snapshot()
        space.add_(d)
        new = self._loss_at(closure)
        rho = (new - float(loss)) / predicted if predicted < 0 else float("nan")
        accepted = math.isfinite(new) and new <= float(loss)
        if not accepted:
            space.restore(saved)
            self.info["rejected"] += 1
        if self.adapt_damping:
            if not accepted or not math.isfinite(rho) or rho < 0.25:
                self.damping = lam * 1.5
            elif rho > 0.75:
                self.damping = max(self.min_damping, lam * (2.0 / 3.0))
        self.info.update(steps=self.info["steps"] + 1, loss=float(loss), new_loss=new, rho=rho,
                         cg_iters=iters, negative_curvature=negative, damping=self.damping, accepted=accepted)
        return loss


__all__ = ["HessianFreeNewton", "conjugate_gradient"]
