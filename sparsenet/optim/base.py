"""What the closure-based second-order optimizers share: hyper-parameter checks, the flat spaces
of their parameter groups (with optional ``"masks"``), and applying a step safely.

A step is applied only when every entry is finite (else `NonFiniteError`, parameters unchanged).
With ``line_search=True`` it is Armijo backtracking: try ``t = lr, lr·ρ, lr·ρ², ...`` and accept
the first ``t`` with ``f(w + t d) ≤ f(w) + c·t·gᵀd`` (c = 1e-4, ρ = 1/2); if none of
``max_backtracks`` tries passes, the parameters stay where they were.
"""
from __future__ import annotations

import math
from typing import Iterable

import torch

from ..errors import ConfigError
from .space import Closure, ParamSpace, check_finite, check_params

ARMIJO_C = 1e-4
BACKTRACK = 0.5


def check_positive(name: str, value, hint: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name}={value!r} must be a finite number > 0{hint}")
    return float(value)


class SecondOrderOptimizer(torch.optim.Optimizer):
    """Base: param groups may carry ``"masks"`` (a list with a bool tensor or None per parameter)."""

    def __init__(self, params: Iterable, defaults: dict):
        super().__init__(params, defaults)
        all_params = [p for g in self.param_groups for p in g["params"]]
        check_params(all_params)
        self.group_spaces = [ParamSpace(g["params"], g.get("masks")) for g in self.param_groups]
        masks = [m for g in self.param_groups for m in (g.get("masks") or [None] * len(g["params"]))]
        self.space = ParamSpace(all_params, masks)
        self.info: dict = {"steps": 0, "rejected": 0, "line_search_failures": 0}

    @torch.no_grad()
    def _loss_at(self, closure: Closure) -> float:
        loss = closure()  # only the value is needed: no graph
        return float(loss.detach()) if isinstance(loss, torch.Tensor) else float("nan")

    def apply_step(self, space: ParamSpace, d: torch.Tensor, lr: float, closure: Closure,
                   loss0: float, g: torch.Tensor, line_search: bool, max_backtracks: int = 20) -> float:
        """w += t·d for the accepted t (returned; 0.0 when the line search failed)."""
        try:
            check_finite(d, "proposed step")
        except Exception:
            self.info["rejected"] += 1
            raise
        if not line_search:
            space.add_(d, lr)
            return lr
        slope = float(g.to(torch.float64) @ d.to(torch.float64))
        saved = space.snapshot()
        t = lr
        for _ in range(max_backtracks):
            space.add_(d, t)
            f = self._loss_at(closure)
            # A non-descent direction (plain Newton at a saddle) only needs to decrease f.
            bound = loss0 + ARMIJO_C * t * slope if slope < 0 else loss0
            if math.isfinite(f) and f <= bound:
                return t
            space.restore(saved)
            t *= BACKTRACK
        self.info["line_search_failures"] += 1
        return 0.0


__all__ = ["SecondOrderOptimizer", "check_positive", "ARMIJO_C", "BACKTRACK"]
