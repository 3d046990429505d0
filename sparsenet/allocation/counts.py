"""Per-layer keep counts: uniform, Erdős–Rényi(-Kernel), floors, and exact integer rounding.

ER — Mocanu et al., "Scalable training of artificial neural networks with adaptive sparse
connectivity inspired by network science", Nature Communications 2018 (arXiv:1707.04780):
density of a layer ∝ (n_in + n_out) / (n_in · n_out).
ERK — Evci et al., "Rigging the Lottery: Making All Tickets Winners", ICML 2020
(arXiv:1911.11134): for conv kernels  density ∝ (n_in + n_out + k_h + k_w) / (n_in · n_out · k_h · k_w).
A layer whose density would exceed 1 is kept dense and the rest is rescaled (as in RigL).

All counts here sum *exactly* to the requested total (largest-remainder rounding within bounds).
"""
from __future__ import annotations

import math
from typing import Mapping

from ..errors import ConfigError


def erk_factor(shape: tuple[int, ...], kernel: bool = True) -> float:
    """ERK (or ER with ``kernel=False``) density factor of a weight of `shape` ``(out, in, *k)``."""
    if len(shape) < 2:
        raise ConfigError(f"ERK needs weights of >= 2 dimensions, got shape {shape}")
    n_out, n_in, ks = shape[0], shape[1], tuple(shape[2:])
    numel = math.prod(shape)
    if numel == 0:
        return 0.0
    if kernel:
        return (n_out + n_in + sum(ks)) / numel
    return (n_out + n_in) / (n_out * n_in)


def distribute(total: int, weights: Mapping[str, float], lo: Mapping[str, int], hi: Mapping[str, int]) -> dict[str, int]:
    """Integer counts ``c_l`` with ``lo_l <= c_l <= hi_l``, ``Σ c_l = total``, otherwise
    proportional to ``weights``: ``c_l = clamp(λ·w_l, lo_l, hi_l)`` for the λ that meets the total
    (a layer at a bound is held there, the rest rescaled, as RigL does for dense layers), then
    largest-remainder rounding within bounds, ties to the earlier layer; units still missing (all
    weights 0) go to the first layers with room."""
    names = list(weights)
    if sum(lo.values()) > total or sum(hi.values()) < total:
        raise ConfigError(f"cannot keep {total} weights: per-layer bounds allow between "
                          f"{sum(lo.values())} and {sum(hi.values())}")

    def filled(lam: float) -> dict[str, float]:
        return {n: min(hi[n], max(lo[n], lam * weights[n])) for n in names}

    # Σ_l clamp(λ·w_l, lo_l, hi_l) grows with λ: bisect for the λ that meets the total.
    low, high = 0.0, 1.0
    while sum(filled(high).values()) < total and high < 1e300:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2
        if sum(filled(mid).values()) < total:
            low = mid
        else:
            high = mid
    real = filled(high)
    counts = {n: min(hi[n], max(lo[n], math.floor(real[n]))) for n in names}
    short = total - sum(counts.values())
    order = sorted(names, key=lambda n: (-(real[n] - math.floor(real[n])), names.index(n)))
    while short > 0:  # hand out the remaining units by largest fractional part, within bounds
        progressed = False
        for n in order:
            if short > 0 and counts[n] < hi[n]:
                counts[n] += 1
                short -= 1
                progressed = True
        if not progressed:
            break
    return counts


def floors(sizes: Mapping[str, int], live: Mapping[str, int], min_density: float) -> dict[str, int]:
    """``ceil(min_density · size)`` per layer, capped at its live count."""
    if isinstance(min_density, bool) or not isinstance(min_density, (int, float)) or not (0 <= min_density <= 1):
        raise ConfigError(f"min_density must be in [0, 1], got {min_density!r}")
    return {n: min(live[n], math.ceil(min_density * sizes[n] - 1e-9)) for n in sizes}
