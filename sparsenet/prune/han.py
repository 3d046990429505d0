"""Han et al. 2015 pruning: per-layer threshold = quality × std of the layer's weights.

Han, Pool, Tran & Dally, "Learning both Weights and Connections for Efficient Neural Networks",
NIPS 2015 (arXiv:1506.02626); seed 004 ("Weight Pruning"). The pipeline is

    train → prune |w| < q · σ_l (σ_l: std of layer l's live weights) → retrain (lower lr) → iterate.

`han_masks` applies the threshold rule for a quality ``q`` (one for all layers or one per layer).
`quality_for_density` gives the ``q`` that leaves a wanted density, so a run can target the
paper's LeNet-300-100 result (fc1 8%, fc2 9%, fc3 26%) and report the qualities it used;
`han_schedule` spreads a target density over the iterations geometrically.
The pipeline itself (training, retraining, iterations) is in `sparsenet.experiments.prune`.
"""
from __future__ import annotations

import math
import numbers
from typing import Mapping

import torch
from torch import nn

from ..errors import ConfigError
from ..masks import Masks, full_masks, prunable_names, topk_mask

PAPER_DENSITY = {"layers.0.weight": 0.08, "layers.1.weight": 0.09, "layers.2.weight": 0.26}
"""Han et al. 2015, Table 2: LeNet-300-100 fc1 / fc2 / fc3 weights kept."""


def _std(w: torch.Tensor, alive: torch.Tensor) -> float:
    live = w[alive]
    return float(live.std(unbiased=False)) if live.numel() > 1 else 0.0


def han_masks(model: nn.Module, quality: float | Mapping[str, float], *, alive: Mapping[str, torch.Tensor] | None = None,
              names: list[str] | None = None) -> Masks:
    """Keep the live weights with ``|w| >= q_l · σ_l`` in every layer (σ over live weights)."""
    names = list(alive) if alive is not None else (prunable_names(model) if names is None else list(names))
    base = full_masks(model, names)
    if alive is not None:
        base.update({n: a.clone() for n, a in alive.items()})
    q = quality if isinstance(quality, Mapping) else {n: quality for n in names}
    params = dict(model.named_parameters())
    out = {}
    for n in names:
        if n not in q:
            raise ConfigError(f"no quality given for layer {n!r}; layers: {', '.join(names)}")
        qn = q[n]
        if isinstance(qn, bool) or not isinstance(qn, numbers.Real) or qn < 0:
            raise ConfigError(f"quality for {n!r} must be a number >= 0, got {qn!r}")
        w = params[n].detach()
        out[n] = base[n] & (w.abs() >= qn * _std(w, base[n]))
    return out


def quality_for_density(weight: torch.Tensor, alive: torch.Tensor, density: float) -> float:
    """The quality q whose threshold q·σ keeps `density` of the layer (size-relative)."""
    keep = int(round(density * weight.numel()))
    live = weight.detach()[alive].abs()
    if keep <= 0 or live.numel() == 0:
        return math.inf
    if keep >= live.numel():
        return 0.0
    thr = float(live.sort(descending=True).values[keep - 1])
    sd = _std(weight.detach(), alive)
    return thr / sd if sd > 0 else math.inf


def density_masks(model: nn.Module, density: Mapping[str, float], alive: Mapping[str, torch.Tensor]) -> tuple[Masks, dict[str, float]]:
    """Han's rule at the quality giving each layer exactly ``round(density · size)`` weights
    (count-exact: ties broken by index, as a threshold would keep them all). Returns the masks and
    the quality used per layer."""
    params = dict(model.named_parameters())
    masks, qual = {}, {}
    for n, d in density.items():
        w = params[n].detach()
        keep = int(round(d * w.numel()))
        if keep > int(alive[n].sum()):
            raise ConfigError(f"layer {n!r}: density {d} needs {keep} weights but only {int(alive[n].sum())} are live")
        qual[n] = quality_for_density(w, alive[n], d)
        masks[n] = topk_mask(w.abs(), alive[n], keep)
    return masks, qual


def han_schedule(target: Mapping[str, float], iterations: int) -> list[dict[str, float]]:
    """Per-iteration density goals: ``d_l^(i/n)``, i = 1..n; the last is exactly the target."""
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ConfigError(f"iterations must be a positive integer, got {iterations!r}")
    steps = []
    for i in range(1, iterations + 1):
        steps.append({n: (d if i == iterations else d ** (i / iterations)) for n, d in target.items()})
    return steps
