"""Krylov saddle-free Newton: |H| inside a k-dimensional Krylov subspace, from k Hessian-vector
products, for nets whose exact Hessian is out of reach.

Dauphin et al. 2014, "Identifying and attacking the saddle point problem in high-dimensional
non-convex optimization", arXiv:1406.2572, Section 6 / Algorithm 1 (their own large-scale method).

k Lanczos steps started at the gradient give ``Q`` (n × k, orthonormal, spanning
``K_k(H, g)``) and ``T = Qᵀ H Q``. With ``T = U Θ Uᵀ``:

    Δw = −α · Q U diag(1 / (|θ_i| + δ)) Uᵀ Qᵀ g

g lies in the subspace (it is its first vector), so this is saddle-free Newton restricted to the
k directions Lanczos finds first: those of extreme curvature, including negative curvature.
Cost per step: k Hessian-vector products and O(n k) memory, against n products and O(n²) for
the exact form. Products are exact (double backward) or central finite differences.
"""
from __future__ import annotations

from typing import Iterable

import torch

from ..errors import ConfigError
from .base import SecondOrderOptimizer, check_positive
from .hvp import exact_hvp_operator, fd_hvp_operator
from .lanczos import lanczos
from .space import Closure, check_finite


class KrylovSaddleFreeNewton(SecondOrderOptimizer):
    """Saddle-free Newton in a k-dimensional Krylov subspace (closure-based; groups may carry masks).

    `info` after a step: loss, the step size taken, the Ritz values' extremes, the subspace
    dimension reached (smaller than k when the Krylov space is exhausted).
    """

    def __init__(self, params: Iterable, k: int = 20, lr: float = 1.0, damping: float = 0.1,
                 hvp: str = "exact", line_search: bool = False, rel_step: float | None = None):
        check_positive("lr", lr)
        check_positive("damping", damping)
        if hvp not in ("exact", "fd"):
            raise ConfigError(f"hvp={hvp!r}; valid choices: exact, fd")
        super().__init__(params, dict(lr=lr, damping=damping))
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"Krylov dimension k={k!r} must be a positive integer")
        if k > self.space.numel:
            raise ConfigError(f"Krylov dimension k={k} exceeds the {self.space.numel} parameters; use k <= {self.space.numel}")
        self.k, self.lr, self.damping, self.hvp, self.line_search, self.rel_step = k, float(lr), float(damping), hvp, line_search, rel_step

    def step(self, closure: Closure | None = None) -> torch.Tensor:  # type: ignore[override]
        space = self.space
        if self.hvp == "exact":
            loss, g, matvec = exact_hvp_operator(closure, space)
        else:
            loss, g, matvec = fd_hvp_operator(closure, space, self.rel_step)
        g64 = g.to(torch.float64)
        if float(g64.norm()) == 0.0:  # a stationary point: the Krylov space is empty, nothing to do
            self.info.update(steps=self.info["steps"] + 1, loss=float(loss), step_size=0.0, subspace=0)
            return loss
        T, Q = lanczos(matvec, space.numel, self.k, g64, dtype=torch.float64, device=space.device)
        check_finite(T, "Krylov-subspace Hessian")
        theta, U = torch.linalg.eigh(T)
        coef = (U.T @ (Q.T @ g64)) / (theta.abs() + self.damping)
        d = -(Q @ (U @ coef))
        t = self.apply_step(space, d, self.lr, closure, float(loss), g64, self.line_search)
        self.info.update(steps=self.info["steps"] + 1, loss=float(loss), step_size=t, subspace=int(T.shape[0]),
                         ritz_min=float(theta[0]), ritz_max=float(theta[-1]), step_norm=float(d.norm()) * t)
        return loss


__all__ = ["KrylovSaddleFreeNewton"]
