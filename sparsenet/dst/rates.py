"""How much a dynamic sparse method rewires at step t, and how dense each layer starts.

Drop fraction (the share of a layer's live connections replaced at an update):

    constant (SET, Mocanu et al. 2018):   ζ_t = ζ
    cosine   (RigL, Evci et al. 2020, eq. 1):   ζ_t = ζ/2 · (1 + cos(π t / T_end))

and no update at or after ``T_end`` (`end_step`).

Initial densities (Erdős–Rényi, Mocanu et al. 2018, §"SET"): a layer with n_in inputs and n_out
outputs keeps ε(n_in + n_out) / (n_in · n_out) of its connections; a layer where that exceeds 1 is
made dense (and reported), as ERK implementations do. For a target overall density instead of ε:
``uniform`` (every layer the same), ``er`` (∝ (n_in + n_out)/(n_in · n_out)) or ``erk`` (∝ the same sum
over every dimension of the kernel, Evci et al. 2020 §3), scaled so the total matches.
"""
from __future__ import annotations

import math
from typing import Mapping

from ..allocation.counts import erk_factor
from ..errors import ConfigError

DECAYS = ("constant", "cosine")
ALLOCATIONS = ("uniform", "er", "erk")


def check_rates(*, zeta: float, delta_t: int, end_step: int, steps: int) -> None:
    """One-line errors for a drop fraction outside (0, 1), ΔT <= 0 or an end step past training."""
    if not isinstance(zeta, (int, float)) or not 0 < zeta < 1:
        raise ConfigError(f"drop fraction zeta={zeta!r} must be in (0, 1) (the share of live connections replaced)")
    if not isinstance(delta_t, int) or isinstance(delta_t, bool) or delta_t <= 0:
        raise ConfigError(f"delta_t={delta_t!r} must be a positive number of steps between pattern updates")
    if not isinstance(end_step, int) or isinstance(end_step, bool) or not 0 < end_step <= steps:
        raise ConfigError(f"end_step={end_step!r} must be in 1..{steps} (the training steps); "
                          f"pattern updates stop there")


def drop_fraction(step: int, *, zeta: float, end_step: int, decay: str = "constant") -> float:
    """ζ_t (see the module docstring); 0 from `end_step` on."""
    if decay not in DECAYS:
        raise ConfigError(f"unknown drop-fraction decay {decay!r}; valid: {', '.join(DECAYS)}")
    if step >= end_step:
        return 0.0
    if decay == "constant":
        return float(zeta)
    return 0.5 * zeta * (1.0 + math.cos(math.pi * step / end_step))


def er_density(n_in: int, n_out: int, epsilon: float) -> float:
    """ε(n_in + n_out)/(n_in · n_out), capped at 1."""
    if not isinstance(epsilon, (int, float)) or epsilon <= 0:
        raise ConfigError(f"epsilon={epsilon!r} must be > 0 (SET's sparsity parameter ε)")
    return min(1.0, epsilon * (n_in + n_out) / (n_in * n_out))


def layer_densities(shapes: Mapping[str, tuple[int, ...]], *, density: float | None = None,
                    epsilon: float | None = None, allocation: str = "erk") -> dict[str, float]:
    """Each layer's initial density: from ε (`epsilon`, ER per layer) or from an overall `density`
    split by `allocation`. Layers that would exceed 1 are dense (1.0) and the rest rescaled."""
    if (density is None) == (epsilon is None):
        raise ConfigError("give exactly one of density (overall, split by the allocation) or epsilon (SET's ε)")
    if epsilon is not None:
        return {n: er_density(int(math.prod(s[1:])), s[0], epsilon) for n, s in shapes.items()}
    if not isinstance(density, (int, float)) or not 0 < density <= 1:
        raise ConfigError(f"density={density!r} must be in (0, 1] (the fraction of weights kept)")
    if allocation not in ALLOCATIONS:
        raise ConfigError(f"unknown allocation {allocation!r}; valid: {', '.join(ALLOCATIONS)}")
    sizes = {n: math.prod(s) for n, s in shapes.items()}
    if allocation == "uniform":
        return {n: float(density) for n in shapes}
    factor = {n: erk_factor(tuple(s), kernel=allocation == "erk") for n, s in shapes.items()}
    budget = density * sum(sizes.values())
    dense: set[str] = set()
    while True:  # fix the layers that cap at 1, rescale the rest
        free = [n for n in shapes if n not in dense]
        left = budget - sum(sizes[n] for n in dense)
        scale = left / sum(factor[n] * sizes[n] for n in free) if free else 0.0
        over = [n for n in free if scale * factor[n] >= 1.0]
        if not over:
            return {n: 1.0 if n in dense else scale * factor[n] for n in shapes}
        dense.update(over)


__all__ = ["ALLOCATIONS", "DECAYS", "check_rates", "drop_fraction", "er_density", "layer_densities"]
