"""Selection among surviving weights: top-k, per layer or global, by count, sparsity or budget.

Every selector here keeps a subset of ``alive`` (a pruned weight never comes back) with an exact
count, and breaks ties deterministically:

* within a tensor, among equal scores the **lower flat (row-major) index wins**;
* across layers (`select_global`), the layer that comes **first in the masks' order** wins,
  then the lower flat index.

Scores are "higher = keep". NaN scores at alive positions are rejected.

Counts from a sparsity ``s`` use Python's ``round((1 - s) * n)`` (half to even), where ``n`` is
the layer size (``relative_to="layer"``, the default: ``s`` is the sparsity of the whole layer,
as in iterative magnitude pruning schedules) or the number of surviving weights
(``relative_to="alive"``: remove the fraction ``s`` of what survives, e.g. "prune 20% of the
remaining weights"). For `select_global` the same words apply to all masked weights together.
"""
from __future__ import annotations

import math
import numbers
from typing import Mapping

import torch
from torch import nn

from ..errors import ConfigError, SparsenetError
from .core import Masks, full_masks, prunable_names, validate_masks

_SPARSITY_HELP = "sparsity is the fraction of weights removed, in [0, 1)"
_RELATIVE = ("layer", "alive")


# ---------------------------------------------------------------------------------- checks


def check_sparsity(s, name: str | None = None) -> float:
    """Return `s` as a float if ``0 <= s < 1``; otherwise raise `ConfigError`."""
    where = f" for {name!r}" if name else ""
    if isinstance(s, bool) or not isinstance(s, numbers.Real) or not (0 <= s < 1):
        raise ConfigError(f"invalid sparsity {s!r}{where}: {_SPARSITY_HELP}")
    return float(s)


def _check_count(k, what: str) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ConfigError(f"{what} must be an integer, got {k!r}")
    return int(k)


def _keep_count(s: float, n: int) -> int:
    return int(round((1.0 - s) * n))


def _resolve_alive(scores: Mapping[str, torch.Tensor], alive: Mapping[str, torch.Tensor] | None) -> Masks:
    if not isinstance(scores, Mapping):
        raise SparsenetError(f"scores must be a dict of name -> tensor, got {type(scores).__name__}")
    if alive is None:
        alive = {n: torch.ones(s.shape, dtype=torch.bool, device=s.device) for n, s in scores.items()}
    for n, m in alive.items():
        if not isinstance(m, torch.Tensor) or m.dtype != torch.bool:
            raise SparsenetError(f"alive mask {n!r} must be a bool tensor")
        if n not in scores:
            raise SparsenetError(f"no score for {n!r}; scores are given for: {', '.join(scores)}")
        s = scores[n]
        if not isinstance(s, torch.Tensor) or s.shape != m.shape:
            got = tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
            raise SparsenetError(f"score {n!r} has shape {got} but its mask has shape {tuple(m.shape)}")
    return dict(alive)


def _per_layer(value, names: list[str], what: str) -> dict:
    """Broadcast a scalar to every name, or check a dict covers exactly `names`."""
    if isinstance(value, Mapping):
        missing = [n for n in names if n not in value]
        extra = [n for n in value if n not in names]
        if missing or extra:
            raise ConfigError(
                f"{what} dict must have one entry per masked layer; missing: {missing}, unknown: {extra}"
            )
        return {n: value[n] for n in names}
    return {n: value for n in names}


def _one_of(sparsity, keep) -> None:
    if (sparsity is None) == (keep is None):
        raise ConfigError("give exactly one of sparsity= (fraction removed) or keep= (count kept)")


def _check_relative(relative_to: str) -> None:
    if relative_to not in _RELATIVE:
        raise ConfigError(f"unknown relative_to {relative_to!r}; valid values: {', '.join(_RELATIVE)}")


# ------------------------------------------------------------------------------------ top-k


def _sortable(s: torch.Tensor) -> torch.Tensor:
    if s.dtype == torch.bool:
        s = s.to(torch.uint8)
    if s.is_floating_point() and bool(torch.isnan(s).any()):
        raise SparsenetError("scores contain NaN at surviving positions; scores must be comparable")
    return s


def _top(s: torch.Tensor, keep: int) -> torch.Tensor:
    """Bool vector choosing the `keep` largest entries of the 1-D `s`, ties to the lower index.

    Same result as a stable descending sort, in O(n): every entry above the keep-th largest
    value, then the first entries (in index order) equal to it.
    """
    chosen = torch.zeros(s.numel(), dtype=torch.bool, device=s.device)
    if keep == 0:
        return chosen
    threshold = torch.kthvalue(s, s.numel() - keep + 1).values  # the keep-th largest value
    chosen = s > threshold
    short = keep - int(chosen.sum())
    chosen[(s == threshold).nonzero().squeeze(1)[:short]] = True
    return chosen


def topk_mask(scores: torch.Tensor, alive: torch.Tensor, keep: int) -> torch.Tensor:
    """Keep exactly `keep` of the `alive` entries: those with the highest `scores`.

    Dead entries are never selected. Among equal scores the lower flat index wins.
    ``keep < 0`` or ``keep >`` the number of alive entries raises `SparsenetError`.

    >>> topk_mask(torch.tensor([3., 1., 3., 5.]), torch.tensor([True, True, True, False]), 2)
    tensor([ True, False,  True, False])
    >>> topk_mask(torch.tensor([2., 2., 2., 2.]), torch.ones(4, dtype=torch.bool), 3)
    tensor([ True,  True,  True, False])
    """
    if not isinstance(scores, torch.Tensor) or not isinstance(alive, torch.Tensor):
        raise SparsenetError("topk_mask needs a scores tensor and an alive bool tensor")
    if alive.dtype != torch.bool:
        raise SparsenetError(f"alive must be a bool tensor, got dtype {alive.dtype}")
    if scores.shape != alive.shape:
        raise SparsenetError(f"scores shape {tuple(scores.shape)} differs from alive shape {tuple(alive.shape)}")
    keep = _check_count(keep, "keep")
    flat_alive = alive.reshape(-1)
    idx = flat_alive.nonzero().squeeze(1)  # ascending flat indices of survivors
    n_alive = idx.numel()
    if keep < 0:
        raise SparsenetError(f"keep must be >= 0, got {keep}")
    if keep > n_alive:
        raise SparsenetError(f"cannot keep {keep} weights: only {n_alive} are alive")
    if keep == n_alive:
        return alive.clone()
    out = torch.zeros_like(flat_alive)
    if keep > 0:
        s = _sortable(scores.reshape(-1).to(alive.device)[idx])
        out[idx[_top(s, keep)]] = True
    return out.reshape(alive.shape)


# ------------------------------------------------------------------------------- selection


def select_layerwise(
    scores: Mapping[str, torch.Tensor],
    alive: Mapping[str, torch.Tensor] | None = None,
    sparsity: float | Mapping[str, float] | None = None,
    keep: int | Mapping[str, int] | None = None,
    *,
    relative_to: str = "layer",
) -> Masks:
    """Per-layer top-k among survivors; one mask per key of `alive` (default: all of `scores`).

    Give exactly one of `sparsity` (a float, or a dict per layer) or `keep` (an int for every
    layer, or a dict per layer). With `sparsity`, each layer keeps ``round((1 - s) * n)`` where
    ``n`` is the layer size (``relative_to="layer"``) or its survivor count
    (``relative_to="alive"``). Asking a layer to keep more than survive raises `ConfigError`.
    Scores for names not in `alive` are ignored.

    >>> scores = {"a": torch.tensor([1., 4., 2., 3.]), "b": torch.tensor([9., 8.])}
    >>> select_layerwise(scores, sparsity=0.5)
    {'a': tensor([False,  True, False,  True]), 'b': tensor([ True, False])}
    """
    alive = _resolve_alive(scores, alive)
    _one_of(sparsity, keep)
    _check_relative(relative_to)
    names = list(alive)
    out: Masks = {}
    if keep is not None:
        counts = {n: _check_count(k, f"keep for {n!r}") for n, k in _per_layer(keep, names, "keep").items()}
    else:
        counts, per_layer = {}, _per_layer(sparsity, names, "sparsity")
        for n, s in per_layer.items():
            s = check_sparsity(s, n if isinstance(sparsity, Mapping) else None)
            base = alive[n].numel() if relative_to == "layer" else int(alive[n].sum())
            counts[n] = _keep_count(s, base)
    for n in names:
        k, n_alive, size = counts[n], int(alive[n].sum()), alive[n].numel()
        if k < 0:
            raise ConfigError(f"layer {n!r}: keep must be >= 0, got {k}")
        if k > n_alive:
            if keep is not None:
                raise ConfigError(f"layer {n!r}: cannot keep {k} weights: only {n_alive} of {size} are alive")
            raise ConfigError(
                f"layer {n!r}: cannot keep {k} weights (sparsity {per_layer[n]} of its {size} weights): "
                f"only {n_alive} are alive; raise the sparsity or pass relative_to='alive'"
            )
        out[n] = topk_mask(scores[n], alive[n], k)
    return out


def select_global(
    scores: Mapping[str, torch.Tensor],
    alive: Mapping[str, torch.Tensor] | None = None,
    sparsity: float | None = None,
    keep: int | None = None,
    *,
    relative_to: str = "layer",
) -> Masks:
    """One ranking across all layers: keep exactly the `keep` highest-scoring survivors overall.

    With `sparsity`, ``keep = round((1 - s) * n)`` where ``n`` is the number of masked weights
    (``relative_to="layer"``) or of survivors (``relative_to="alive"``). Ties: earlier layer (in
    the order of `alive`) first, then lower flat index. Scores of different dtypes are compared
    in float64.

    >>> scores = {"a": torch.tensor([1., 4.]), "b": torch.tensor([4., 3., 0.])}
    >>> select_global(scores, keep=2)
    {'a': tensor([False,  True]), 'b': tensor([ True, False, False])}
    """
    alive = _resolve_alive(scores, alive)
    _one_of(sparsity, keep)
    _check_relative(relative_to)
    names = list(alive)
    total = sum(alive[n].numel() for n in names)
    idx = {n: alive[n].reshape(-1).nonzero().squeeze(1) for n in names}
    n_alive = sum(i.numel() for i in idx.values())
    if keep is not None:
        k = _check_count(keep, "keep")
    else:
        if isinstance(sparsity, Mapping):
            raise ConfigError("select_global takes one sparsity for all layers; use select_layerwise for a dict")
        s = check_sparsity(sparsity)
        k = _keep_count(s, total if relative_to == "layer" else n_alive)
    if k < 0:
        raise ConfigError(f"keep must be >= 0, got {k}")
    if k > n_alive:
        raise ConfigError(f"cannot keep {k} weights in total: only {n_alive} of {total} are alive")
    if not names:
        return {}
    device = alive[names[0]].device
    parts = [_sortable(scores[n].reshape(-1).to(device)[idx[n].to(device)]) for n in names]
    if len({p.dtype for p in parts}) > 1:
        parts = [p.to(torch.float64) for p in parts]
    # Concatenation order = layer order then flat index, so ties go to the earlier position.
    chosen = _top(torch.cat(parts), k)
    out: Masks = {}
    for n, c in zip(names, torch.split(chosen, [i.numel() for i in idx.values()])):
        m = torch.zeros(alive[n].numel(), dtype=torch.bool, device=alive[n].device)
        m[idx[n][c.to(idx[n].device)]] = True
        out[n] = m.reshape(alive[n].shape)
    return out


# ------------------------------------------------------------------------- magnitude rules


def magnitude_scores(model: nn.Module, names: list[str] | None = None) -> dict[str, torch.Tensor]:
    """``{name: |w|}`` (detached copies) for `names` (default: `prunable_names(model)`)."""
    params = dict(model.named_parameters())
    names = prunable_names(model) if names is None else list(names)
    out = {}
    for n in names:
        if n not in params:
            raise SparsenetError(f"{n!r} names no parameter of the model; parameters: {', '.join(params)}")
        out[n] = params[n].detach().abs()
    return out


def _names_and_alive(model: nn.Module, names, alive) -> tuple[list[str], Masks]:
    if alive is not None:
        validate_masks(model, alive)
    if names is None:
        names = list(alive) if alive is not None else prunable_names(model)
    names = list(names)
    base = full_masks(model, names)
    if alive is not None:
        extra = [n for n in alive if n not in names]
        if extra:
            raise ConfigError(f"alive has masks for {extra}, which are not among names {names}")
        base.update({n: alive[n].clone() for n in alive})
    return names, base


def halving_masks(
    model: nn.Module,
    names: list[str] | None = None,
    alive: Mapping[str, torch.Tensor] | None = None,
    times: int | None = None,
    budget: int | Mapping[str, int] | None = None,
) -> tuple[Masks, int]:
    """The seed's rule: repeatedly remove the survivors whose ``|w|`` is below the median.

    Each round keeps exactly ``ceil(n / 2)`` of the ``n`` survivors of every layer (the largest
    ``|w|``; ties to the lower flat index). Give exactly one of:

    * ``times``: that many rounds for every layer;
    * ``budget`` (an int for every layer, or a dict per layer, each >= 1): halve a layer until
      its live count is ``<= budget``; layers already there stop early.

    Returns ``(masks, rounds)`` where ``rounds`` is the number of rounds run (with a budget, the
    largest number any layer needed). The model is not modified; combine with `apply_masks`.

    >>> from sparsenet.models import MLP
    >>> net = MLP([3, 2])
    >>> with torch.no_grad():
    ...     _ = net.layers[0].weight.copy_(torch.tensor([[1., -6., 3.], [-4., 5., 2.]]))
    >>> masks, rounds = halving_masks(net, times=2)   # 6 -> 3 -> 2 survivors: |w| = 6, 5
    >>> masks["layers.0.weight"], rounds
    (tensor([[False,  True, False],
            [False,  True, False]]), 2)
    """
    if (times is None) == (budget is None):
        raise ConfigError("halving_masks needs exactly one of times= (rounds) or budget= (live weights per layer)")
    names, masks = _names_and_alive(model, names, alive)
    scores = magnitude_scores(model, names)

    def halve(n: str, rounds: int = 1) -> None:
        # Every round keeps the top ceil(k/2) survivors under one total order (|w| descending,
        # lower index first), so r rounds equal a single top-k at the final count: select once.
        live = int(masks[n].sum())
        for _ in range(rounds):
            live = math.ceil(live / 2)
        masks[n] = topk_mask(scores[n], masks[n], live)

    if times is not None:
        times = _check_count(times, "times")
        if times < 0:
            raise ConfigError(f"times must be >= 0, got {times}")
        for n in names:
            halve(n, times)
        return masks, times

    budgets = {}
    for n, b in _per_layer(budget, names, "budget").items():
        b = _check_count(b, f"budget for {n!r}")
        if b <= 0:
            raise ConfigError(f"budget for {n!r} must be >= 1 (halving never goes below 1 weight), got {b}")
        budgets[n] = b
    rounds = 0
    # Terminates: a layer above a budget >= 1 has n >= 2 survivors and ceil(n / 2) < n.
    for n in names:
        live, r = int(masks[n].sum()), 0
        while live > budgets[n]:
            live, r = math.ceil(live / 2), r + 1
        halve(n, r)
        rounds = max(rounds, r)
    return masks, rounds


def budget_masks(
    model: nn.Module,
    names: list[str] | None,
    budget: int | Mapping[str, int],
    scope: str = "layerwise",
    alive: Mapping[str, torch.Tensor] | None = None,
) -> Masks:
    """Keep exactly `budget` weights by magnitude among survivors.

    ``scope="layerwise"``: `budget` weights in every layer (an int for all, or a dict per layer).
    ``scope="global"``: `budget` weights in total (an int), one ranking across layers.
    A budget <= 0, or larger than a layer (or its survivors, or the total survivors), raises
    `ConfigError` naming the layer, the budget and the size.
    """
    if scope not in ("layerwise", "global"):
        raise ConfigError(f"unknown scope {scope!r}; valid scopes: layerwise, global")
    names, alive = _names_and_alive(model, names, alive)
    scores = magnitude_scores(model, names)
    if scope == "global":
        if isinstance(budget, Mapping):
            raise ConfigError("a global budget is one total count; use scope='layerwise' for a dict")
        b = _check_count(budget, "budget")
        total = sum(alive[n].numel() for n in names)
        n_alive = sum(int(alive[n].sum()) for n in names)
        if b <= 0:
            raise ConfigError(f"budget must be >= 1, got {b}")
        if b > n_alive:
            raise ConfigError(
                f"global budget {b} exceeds the {n_alive} surviving weights (of {total}) in {', '.join(names)}"
            )
        return select_global(scores, alive, keep=b)
    keep = {}
    for n, b in _per_layer(budget, names, "budget").items():
        b = _check_count(b, f"budget for {n!r}")
        size, n_alive = alive[n].numel(), int(alive[n].sum())
        if b <= 0:
            raise ConfigError(f"budget for layer {n!r} must be >= 1, got {b}")
        if b > size:
            raise ConfigError(f"budget {b} for layer {n!r} exceeds its size {size}")
        if b > n_alive:
            raise ConfigError(f"budget {b} for layer {n!r} exceeds its {n_alive} surviving weights (size {size})")
        keep[n] = b
    return select_layerwise(scores, alive, keep=keep)
