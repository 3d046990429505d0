"""Saddle-free Newton with the exact Hessian (full, or block-diagonal with one block per param group).

Dauphin, Pascanu, Gulcehre, Cho, Ganguli, Bengio, "Identifying and attacking the saddle point
problem in high-dimensional non-convex optimization", NeurIPS 2014, arXiv:1406.2572.

With ``H = V Λ Vᵀ`` (eigendecomposition), the step is

    Δw = −α · V diag(1 / (|λ_i| + δ)) Vᵀ g        (saddle-free Newton, ``absolute=True``)
    Δw = −α · V diag(1 / (λ_i + δ)) Vᵀ g          (damped Newton, ``absolute=False``)

Replacing λ by |λ| keeps Newton's scaling along each eigen-direction but turns every negative-
curvature direction into a descent direction, so a saddle repels instead of attracting.

Damping: the optimizer requires δ > 0 (it bounds the step along flat directions, |λ| ≈ 0, by
‖g‖/δ). The undamped rule, δ = 0, is available only through the pure function `sfn_direction`
(used by the tests to check the formula exactly); it raises `NonFiniteError` on a zero eigenvalue.
The seed used ``|1/(λ + 0.1)|`` with α = 0.1; we use ``1/(|λ| + δ)``, which does not blow up at
λ = −δ (pass ``absolute=False`` for the plain shifted Newton step).
"""
from __future__ import annotations

from typing import Iterable

import torch

from ..errors import ConfigError
from .base import SecondOrderOptimizer, check_positive
from .errors import NonFiniteError, TooManyParametersError
from .hessian import hessian_blocks, hessian_bytes
from .space import Closure, check_finite

DEFAULT_MAX_PARAMS = 12_000  # ~3.5 GB for the float64 Hessian, eigenvectors and workspace


def sfn_direction(g: torch.Tensor, H: torch.Tensor, damping: float = 0.0, absolute: bool = True
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(−V diag(1/(|λ|+δ)) Vᵀ g, eigenvalues λ) in float64; δ = 0 allowed here (pure function).

    >>> H = torch.diag(torch.tensor([2.0, -4.0], dtype=torch.float64))
    >>> sfn_direction(torch.tensor([1.0, 1.0], dtype=torch.float64), H)[0].tolist()
    [-0.5, -0.25]
    """
    if damping < 0:
        raise ConfigError(f"damping={damping!r} must be >= 0")
    g64, H64 = g.to(torch.float64), H.to(torch.float64)
    check_finite(H64, "Hessian")
    lam, V = torch.linalg.eigh(H64)
    scale = lam.abs() + damping if absolute else lam + damping
    with torch.no_grad():
        d = -(V @ ((V.T @ g64) / scale))
    if not bool(torch.isfinite(d).all()):
        raise NonFiniteError("the Newton step is not finite (a zero curvature with zero damping); "
                             "raise the damping (parameters left unchanged)")
    return d, lam


def newton_direction(g: torch.Tensor, H: torch.Tensor, damping: float = 0.0) -> torch.Tensor:
    """Plain (shifted) Newton: −(H + δI)⁻¹ g via the eigendecomposition; δ = 0 allowed."""
    return sfn_direction(g, H, damping, absolute=False)[0]


class SaddleFreeNewton(SecondOrderOptimizer):
    """Exact saddle-free Newton; closure-based like `torch.optim.LBFGS` (see `sparsenet.optim.space`).

    hessian="full": one Hessian over every parameter of every group; "block": one Hessian per
    param group (one group per layer gives the seed's per-layer blocks; see `layer_groups`).
    Groups may carry ``"masks"`` to restrict the Hessian to live weights (see `live_param_groups`).
    Refuses (`TooManyParametersError`, with a memory estimate) when a block has more than
    `max_params` entries; `KrylovSaddleFreeNewton` scales to those.

    After each step `info` holds the loss, the step size taken, the extreme eigenvalues and the
    number of negative eigenvalues.
    """

    def __init__(self, params: Iterable, lr: float = 1.0, damping: float = 0.1, hessian: str = "full",
                 line_search: bool = False, absolute: bool = True, max_params: int = DEFAULT_MAX_PARAMS,
                 chunk: int = 256):
        check_positive("lr", lr)
        check_positive("damping", damping, "; use a small value such as 1e-4 for a nearly undamped step "
                       "(the undamped rule is sfn_direction(g, H, 0.0))")
        if hessian not in ("full", "block"):
            raise ConfigError(f"hessian={hessian!r}; valid choices: full, block")
        super().__init__(params, dict(lr=lr, damping=damping))
        for g in self.param_groups:
            if g["lr"] != lr or g["damping"] != damping:
                raise ConfigError("per-group lr/damping are not supported; set them on the optimizer")
        self.hessian, self.line_search, self.absolute, self.chunk = hessian, line_search, absolute, chunk
        self.lr, self.damping = float(lr), float(damping)
        self.blocks = [self.space] if hessian == "full" else self.group_spaces
        for b in self.blocks:
            if b.numel > max_params:
                gb = hessian_bytes(b.numel) / 1e9
                raise TooManyParametersError(
                    f"the exact Hessian of {b.numel:,} parameters needs ~{gb:.1f} GB (3·8·n² bytes) and an "
                    f"O(n³) eigendecomposition (max_params={max_params:,}); use hessian='block' with smaller "
                    "groups, prune first, or KrylovSaddleFreeNewton(params, k=...)")

    def step(self, closure: Closure | None = None) -> torch.Tensor:  # type: ignore[override]
        loss, grads, hessians = hessian_blocks(closure, self.blocks, self.chunk)
        dirs, eig_min, eig_max, negative = [], float("inf"), float("-inf"), 0
        for g, H in zip(grads, hessians):
            try:
                d, lam = sfn_direction(g, H, self.damping, self.absolute)
            except NonFiniteError:
                self.info["rejected"] += 1
                raise
            dirs.append(d)
            eig_min, eig_max = min(eig_min, float(lam[0])), max(eig_max, float(lam[-1]))
            negative += int((lam < 0).sum())
        d, g = torch.cat(dirs), torch.cat(grads)
        t = self.apply_step(self.space if len(self.blocks) > 1 else self.blocks[0], d, self.lr, closure,
                            float(loss), g, self.line_search)
        self.info.update(steps=self.info["steps"] + 1, loss=float(loss), step_size=t,
                         step_norm=float(d.norm()) * t, eig_min=eig_min, eig_max=eig_max, negative_eigs=negative)
        return loss


__all__ = ["SaddleFreeNewton", "sfn_direction", "newton_direction", "DEFAULT_MAX_PARAMS"]
