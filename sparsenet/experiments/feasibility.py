"""Can a pruning config leave a network that computes something? Checked before any work, and once
more right after the masks are chosen.

Before work (`check_keeps_weights`), from the layer sizes alone: every pruned layer must keep at
least one weight. With ``--rule sparsity`` a layer of ``n`` weights keeps ``round((1 - s) * n)``
(as `sparsenet.masks.select_layerwise`; ``select_global`` rounds the total), so ``s`` may be at
most about ``1 - 1/n`` for the smallest pruned layer; a global budget must give each layer one.

After selection (`check_pruned`): which weights survive depends on the trained magnitudes, so
only then is it known whether a global ranking emptied a layer, or whether the kept weights of
consecutive layers still meet on some hidden unit. When they do not, removing the unconnected
units leaves a hidden layer of width 0 and every prediction is the constant output bias; that is
refused in one line too, instead of training a network with nothing to train.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ConfigError


def _keep(s: float, n: int) -> int:
    return int(round((1.0 - s) * n))  # the count select_layerwise / select_global keep


def max_sparsity(n: int, need: int = 1) -> float:
    """The largest sparsity, as a short decimal, that keeps >= `need` of `n` weights.

    >>> max_sparsity(1024), max_sparsity(235200)
    (0.999, 0.999995)
    >>> max_sparsity(30000, need=3)
    0.9999
    """
    exact = 1.0 - need / n  # keeps exactly `need`, up to float rounding
    for digits in range(1, 17):
        s = math.floor(exact * 10 ** digits) / 10 ** digits
        if _keep(s, n) == _keep(exact, n) >= need:
            return s
    return exact


def check_sparsity_keeps_weights(sizes: dict[str, int], s: float, scope: str, flag: str = "--sparsity") -> None:
    """`ConfigError` when sparsity `s` (per layer, or over all layers with scope ``global``) would
    leave a layer of `sizes` (weights per pruned layer) with no weight."""
    if not sizes:
        return
    if scope == "global":
        total, layers = sum(sizes.values()), len(sizes)
        if _keep(s, total) < layers:
            raise ConfigError(
                f"{flag} {s} keeps {_keep(s, total)} of the {total} weights of the {layers} pruned layers, "
                f"fewer than one per layer; use {flag} <= {max_sparsity(total, layers)}")
        return
    smallest = min(sizes, key=sizes.get)
    for name, n in sizes.items():
        if _keep(s, n) < 1:
            why = "" if name == smallest else f" (the limit of the smallest pruned layer, {smallest}, {sizes[smallest]} weights)"
            raise ConfigError(
                f"{flag} {s} keeps 0 of the {n} weights of {name} (every pruned layer must keep >= 1 "
                f"weight); use {flag} <= {max_sparsity(sizes[smallest])}{why}")


def check_keeps_weights(sizes: dict[str, int], cfg) -> None:
    """`sizes`: weights of each pruned layer. Raise `ConfigError` when `cfg` (a train config)
    would leave some pruned layer with no weight, naming the count and the limit."""
    if cfg.prune == "none" or not sizes:
        return
    if cfg.rule == "sparsity" and cfg.sparsity is not None:
        check_sparsity_keeps_weights(sizes, cfg.sparsity, cfg.scope)
    layers = len(sizes)
    if cfg.rule == "budget" and cfg.scope == "global" and cfg.budget is not None and cfg.budget < layers:
        raise ConfigError(f"--budget {cfg.budget} with --scope global cannot keep a weight in each of the "
                          f"{layers} pruned layers ({', '.join(sizes)}); use --budget >= {layers}")


def check_prune_sparsities(sizes: dict[str, int], cfg) -> None:
    """`sparsenet prune`: each of --sparsities keeps a weight in every pruned layer. Not checked
    where the counts come from elsewhere (an --allocation, a --min-density floor, neuron or
    channel structure, criterion han) or where --force asks for the collapse."""
    if cfg.force or cfg.structure != "unstructured" or cfg.allocation is not None or cfg.min_density > 0:
        return
    if all(c == "han" for c in cfg.criteria):
        return
    for s in sorted(cfg.sparsities, reverse=True):
        check_sparsity_keeps_weights(sizes, s, cfg.scope, "--sparsities")


def check_pruned(masks: dict[str, torch.Tensor], model: nn.Module | None = None) -> None:
    """After selection: every pruned layer kept a weight. After unit removal (`model` given, with
    its ``sizes``): no hidden layer is left without units."""
    if model is None:
        empty = [n for n, m in masks.items() if not bool(m.any())]
        if empty:
            raise ConfigError(f"pruning kept no weight in {empty[0]} (the global ranking put the whole budget "
                              f"in other layers); use a larger --budget, a lower --sparsity or --scope layerwise")
        return
    sizes = list(getattr(model, "sizes", None) or [])
    if 0 in sizes[1:-1]:
        after = sizes[1:-1].index(0)
        live = ", ".join(f"{n} {int(m.sum())}" for n, m in masks.items())
        raise ConfigError(
            f"pruning left no path from input to output: no hidden unit after layers.{after} has both a kept "
            f"input and a kept output weight (kept before unit removal: {live}), so every prediction would be "
            f"the constant output bias; keep more weights (a lower --sparsity or a larger --budget)")


__all__ = ["check_keeps_weights", "check_prune_sparsities", "check_pruned", "check_sparsity_keeps_weights",
           "max_sparsity"]
