"""Allocations: HOW MUCH to keep per layer, then the exact top-k selection among survivors.

``allocate(scores, alive, method=..., sparsity=s | keep=K, min_density=..., budgets=...)``:

* ``uniform``  every layer keeps ``round((1 - s) · n_l)`` of its ``n_l`` weights (with ``keep=K``,
  K split in proportion to layer sizes);
* ``global``   one ranking of all scores, ``K = round((1 - s) · Σ n_l)`` kept overall;
* ``erk`` / ``er``  K split by the Erdős–Rényi(-Kernel) densities (`counts.erk_factor`);
* ``budgets``  explicit per-layer budgets: ``{name: sparsity (float) or keep count (int)}``; the
  layers not named follow ``uniform``.

``min_density`` is a floor: every layer keeps at least ``ceil(min_density · n_l)`` (for ``global``
the floor weights are reserved first — the best of each layer — and the rest is ranked globally, so
the total stays exactly K). Local criteria bias global pruning toward wide layers; floors and
budgets are the fix the seed suggests (lecture 8, slide 10). Selection reuses
`sparsenet.masks.select_layerwise` / `select_global` / `topk_mask`: count-exact, survivors only,
ties to the lower index.
"""
from __future__ import annotations

import numbers
from typing import Mapping

import torch

from ..errors import ConfigError
from ..masks import Masks, select_global, select_layerwise, topk_mask
from ..masks.select import check_sparsity
from ..registry import Registry
from .counts import distribute, erk_factor, floors

ALLOCATIONS: Registry = Registry("allocation")
for _name in ("uniform", "global", "erk", "er", "budgets"):  # built in (their rules are below)
    ALLOCATIONS.register(_name, _name)
# A new allocation registers a function ``(alive: {name: bool mask}) -> {name: weight}``; the total
# kept is then split in proportion to the weights, within each layer's floor and live count.


def check_allocation(name: str) -> str:
    """`name` if it is a registered allocation, else a ConfigError listing the valid ones."""
    if not isinstance(name, str) or name not in ALLOCATIONS:
        raise ConfigError(f"unknown allocation {name!r}; valid allocations: {', '.join(ALLOCATIONS.names())}")
    return name


def _alive(scores: Mapping[str, torch.Tensor], alive) -> Masks:
    if alive is None:
        return {n: torch.ones(s.shape, dtype=torch.bool, device=s.device) for n, s in scores.items()}
    return dict(alive)


def check_budgets(budgets: Mapping, names: list[str]) -> dict:
    """Budgets must name existing layers and be a sparsity in [0, 1) or a non-negative count."""
    if not isinstance(budgets, Mapping):
        raise ConfigError(f"budgets must be a dict of layer name -> sparsity or count, got {type(budgets).__name__}")
    for n, b in budgets.items():
        if n not in names:
            raise ConfigError(f"budget names unknown layer {n!r}; layers: {', '.join(names)}")
        if isinstance(b, bool) or not isinstance(b, numbers.Real):
            raise ConfigError(f"budget for {n!r} must be a sparsity (float in [0, 1)) or a keep count (int), got {b!r}")
        if isinstance(b, numbers.Integral):
            if b < 0:
                raise ConfigError(f"budget for {n!r} must keep >= 0 weights, got {b}")
        else:
            check_sparsity(b, n)
    return dict(budgets)


def layer_counts(scores: Mapping[str, torch.Tensor], alive: Mapping[str, torch.Tensor], *, method: str,
                 sparsity: float | None = None, keep: int | None = None, min_density: float = 0.0,
                 budgets: Mapping | None = None) -> dict[str, int]:
    """Keep count per layer for every method except ``global`` (which ranks across layers)."""
    names = list(alive)
    sizes = {n: alive[n].numel() for n in names}
    live = {n: int(alive[n].sum()) for n in names}
    lo = floors(sizes, live, min_density)
    if method == "budgets":
        budgets = check_budgets(budgets or {}, names)
        counts = {}
        rest = [n for n in names if n not in budgets]
        if rest:
            if sparsity is None and keep is None:
                counts.update({n: live[n] for n in rest})
            else:
                sub = {n: alive[n] for n in rest}
                counts.update(layer_counts(scores, sub, method="uniform", sparsity=sparsity, keep=keep,
                                           min_density=min_density))
        for n, b in budgets.items():
            k = int(b) if isinstance(b, numbers.Integral) else int(round((1 - float(b)) * sizes[n]))
            counts[n] = max(k, lo[n])
        return {n: counts[n] for n in names}
    if method == "uniform" and sparsity is not None:
        s = check_sparsity(sparsity)
        return {n: max(int(round((1 - s) * sizes[n])), lo[n]) for n in names}
    total = keep if keep is not None else int(round((1 - check_sparsity(sparsity)) * sum(sizes.values())))
    if method == "uniform":
        weights = {n: float(sizes[n]) for n in names}
    elif method in ("erk", "er"):
        weights = {n: erk_factor(tuple(alive[n].shape), kernel=method == "erk") * sizes[n] for n in names}
    elif callable(ALLOCATIONS.get(method)):  # a registered split: alive masks -> {name: share of the total}
        weights = {n: float(w) for n, w in ALLOCATIONS.get(method)(dict(alive)).items()}
    else:
        raise ConfigError(f"unknown allocation {method!r}; valid allocations: {', '.join(ALLOCATIONS.names())}")
    return distribute(total, weights, lo, live)


def allocate(scores: Mapping[str, torch.Tensor], alive: Mapping[str, torch.Tensor] | None = None, *,
             method: str = "uniform", sparsity: float | None = None, keep: int | None = None,
             min_density: float = 0.0, budgets: Mapping | None = None) -> Masks:
    """Masks keeping the best-scoring survivors with per-layer counts chosen by `method`.

    Give `sparsity` (fraction of all weights removed, relative to layer / total size) or `keep`
    (total count kept); ``budgets`` alone is enough for ``method="budgets"``.

    >>> scores = {"a": torch.tensor([1., 4., 2., 3.]), "b": torch.tensor([9., 8.])}
    >>> allocate(scores, method="global", sparsity=0.5)
    {'a': tensor([False,  True, False, False]), 'b': tensor([True, True])}
    >>> allocate(scores, method="global", sparsity=0.5, min_density=0.5)["a"]
    tensor([False,  True, False,  True])
    """
    check_allocation(method)
    if sparsity is not None and keep is not None:
        raise ConfigError("give one of sparsity= (fraction removed) or keep= (count kept), not both")
    if sparsity is None and keep is None and method != "budgets":
        raise ConfigError(f"allocation {method!r} needs sparsity= or keep=")
    alive = _alive(scores, alive)
    names = list(alive)
    live_total = sum(int(alive[n].sum()) for n in names)
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, numbers.Integral) or not 0 <= keep <= live_total):
        raise ConfigError(f"keep={keep!r} must be an integer between 0 and the {live_total} live weights")
    if method != "global":
        counts = layer_counts(scores, alive, method=method, sparsity=sparsity, keep=keep,
                              min_density=min_density, budgets=budgets)
        return select_layerwise(scores, alive, keep=counts)
    sizes = {n: alive[n].numel() for n in names}
    lo = floors(sizes, {n: int(alive[n].sum()) for n in names}, min_density)
    total = keep if keep is not None else int(round((1 - check_sparsity(sparsity)) * sum(sizes.values())))
    if total > live_total:
        raise ConfigError(f"cannot keep {total} weights: only {live_total} are alive")
    if not any(lo.values()):
        return select_global(scores, alive, keep=total)
    if sum(lo.values()) > total:
        raise ConfigError(f"min_density={min_density} needs {sum(lo.values())} weights but the target keeps "
                          f"only {total}; lower min_density or the sparsity")
    reserved = {n: topk_mask(scores[n], alive[n], lo[n]) for n in names}
    rest_alive = {n: alive[n] & ~reserved[n] for n in names}
    rest = select_global(scores, rest_alive, keep=total - sum(lo.values()))
    return {n: reserved[n] | rest[n] for n in names}
