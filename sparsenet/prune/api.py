"""`prune`: the functional API — criterion × allocation × structure in one call.

In the spirit of ``torch.nn.utils.prune``, but parameters are never renamed: masks are returned as
``{parameter name: bool tensor}`` and pruned weights are zeroed in place, so the pruned model's
``state_dict`` loads into an unpruned model of the same architecture.

>>> import torch
>>> from sparsenet.models import MLP
>>> _ = torch.manual_seed(0)
>>> net = MLP([20, 10, 5])
>>> masks = prune(net, "magnitude", 0.9, scope="global")
>>> sum(int(m.sum()) for m in masks.values()), int((net.layers[0].weight != 0).sum()) <= 200
(25, True)
"""
from __future__ import annotations

import numbers
import warnings
from typing import Mapping

import torch
from torch import nn

from ..allocation import allocate, check_allocation, check_budgets, check_collapse
from ..criteria import expand_scores, get_criterion, obs_compensate, units_needed, variance_fold
from ..criteria.base import need_batch
from ..errors import ConfigError
from ..masks import (MaskHandle, Masks, apply_masks, enforce_masks, prunable_names, skipped_weights,
                     sparse_layers, starting_masks, validate_masks)
from ..masks.layers import layer_views
from .structure import check_structure, unit_alive, unit_links, unit_scores, weight_masks

SCOPES = ("layerwise", "global")


def _check_amount(amount, live: int, total: int, what: str) -> None:
    if amount is None:
        return
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise ConfigError(f"amount must be a sparsity in [0, 1) or a count of {what} to remove, got {amount!r}")
    if isinstance(amount, numbers.Integral):
        if not 0 <= amount <= live:
            raise ConfigError(f"amount={amount} {what} to remove, but only {live} of {total} are live; "
                              f"use 0..{live}")
    elif not 0 <= amount < 1:
        raise ConfigError(f"amount={amount!r} must be a sparsity in [0, 1) (fraction of {what} removed)")
    elif round((1 - amount) * total) > live:
        raise ConfigError(f"amount={amount} keeps {round((1 - amount) * total)} of {total} {what}, but only "
                          f"{live} are live (pruning never revives); raise the amount")


def _select(scores, alive, method: str, amount, min_density: float, budgets) -> Masks:
    if isinstance(amount, numbers.Integral) and not isinstance(amount, bool):
        live = sum(int(a.sum()) for a in alive.values())
        return allocate(scores, alive, method=method, keep=live - int(amount), min_density=min_density, budgets=budgets)
    return allocate(scores, alive, method=method, sparsity=amount, min_density=min_density, budgets=budgets)


def prune(model: nn.Module, criterion: str = "magnitude", amount: float | int | None = 0.9, *,
          scope: str = "layerwise", structure: str = "unstructured", allocation: str | None = None,
          batch=None, loss_fn=None, masks: Mapping[str, torch.Tensor] | None = None,
          names: list[str] | None = None, skip=(), min_density: float = 0.0,
          budgets: Mapping | None = None, force: bool = False, apply: bool = True, update: bool = True,
          criterion_kwargs: Mapping | None = None, include_bias: bool = False, enforce: bool = True,
          optimizer: torch.optim.Optimizer | None = None) -> MaskHandle:
    """Prune `model` and return the masks of its prunable weights, enforced in any training loop.

    The result is a `sparsenet.masks.MaskHandle`: the ``dict[name, bool tensor]`` of masks, which
    (with `apply` and `enforce`, the defaults) also keeps the pruned weights exactly zero in any
    training loop — their gradients are zeroed and they are re-zeroed before each forward (and
    after each `optimizer` step, if given) — until ``.remove()`` or the end of a ``with`` block.
    Pruning the same model again replaces the enforced masks (no stacked hooks).

    * Default prunable set: Linear / Conv weights and `SparseLinear` values (`prunable_names`);
      other >=2-D weights (Embedding, attention ``in_proj_weight``) are left out with one warning
      naming them. `include_bias` prunes the biases of those layers too (scored like weights).
      Layers pruned earlier with ``torch.nn.utils.prune`` are pruned further among the weights
      their ``weight_mask`` kept (masks keyed by ``weight_orig``).
    * `criterion`: a name in `sparsenet.criteria.CRITERIA` (higher score = keep).
    * `amount`: float = target sparsity in [0, 1) (fraction of each layer's weights — or units with a
      structure — for ``layerwise``, of all of them for ``global``); int = number of live weights
      (units) to remove. Cumulative: with `masks` (the survivors), pruned weights never come back.
    * `scope` ``"layerwise"`` / ``"global"`` picks the allocation ``uniform`` / ``global``;
      `allocation` (``uniform``, ``global``, ``erk``, ``er``, ``budgets``, or ``spectral`` for
      neurons: units per layer from the activation spectrum) overrides it.
    * `structure`: ``unstructured``, ``neuron`` (Linear rows + next columns), ``channel`` (conv filters).
    * `batch` ``(x, y)`` for data-dependent criteria; `criterion_kwargs` go to the criterion.
    * `min_density` floor and `budgets` (``{name: sparsity or count}``) as in `sparsenet.allocation`.
    * Layer collapse raises `LayerCollapseError` unless `force`.
    * `apply`: zero the pruned weights in place; `update`: also apply the criterion's correction
      (OBS weight compensation for ``obs``, bias folding for ``variance``).
    """
    crit = get_criterion(criterion)
    check_structure(structure)
    if scope not in SCOPES:
        raise ConfigError(f"unknown scope {scope!r}; valid scopes: {', '.join(SCOPES)}")
    method = allocation if allocation is not None else ("uniform" if scope == "layerwise" else "global")
    spectral = method == "spectral"
    if spectral:
        if structure != "neuron":
            raise ConfigError("allocation 'spectral' chooses neurons per layer: use structure='neuron'")
        need_batch("spectral allocation", batch, "a batch of training inputs (x, y) for the activation spectra")
    else:
        check_allocation(method)
    kwargs = dict(criterion_kwargs or {})
    if crit.needs and batch is None and not (criterion == "movement" and "accumulator" in kwargs):
        raise ConfigError(f"criterion {criterion!r} needs data: pass batch=(x, y) with {crit.needs}")
    if include_bias and structure != "unstructured":
        raise ConfigError(f"include_bias works with structure='unstructured'; structure {structure!r} "
                          f"removes whole units (their biases go with them when shrunk)")
    if names is None and masks is None:
        names = prunable_names(model, skip=skip, include_bias=include_bias)
        left = skipped_weights(model)
        if left:
            warnings.warn(f"prune: {len(left)} weight(s) outside Linear / Conv layers are not pruned: "
                          + ", ".join(f"{n} ({t})" for n, t in left)
                          + "; pass names=[...] to prune them", stacklevel=2)
    elif names is None:
        names = list(masks)
    if not names:
        raise ConfigError("nothing to prune: the model has no prunable weights (Linear / Conv weights)")
    alive = starting_masks(model, names)
    if masks is not None:
        validate_masks(model, masks)
        unknown = [n for n in masks if n not in names]
        if unknown:
            raise ConfigError(f"masks given for {unknown}, which are not among the pruned layers {names}")
        alive.update({n: m.clone() for n, m in masks.items()})
    if amount is None and method != "budgets" and not spectral:
        raise ConfigError(f"amount is required with allocation {method!r} (only 'budgets' works without)")

    links = unit_links(model, names, structure) if structure != "unstructured" else []
    if links:
        u_alive = {l.name: unit_alive(alive, l) for l in links}
        live, total = sum(int(a.sum()) for a in u_alive.values()), sum(a.numel() for a in u_alive.values())
        what = "units"
    else:
        live, total = sum(int(a.sum()) for a in alive.values()), sum(a.numel() for a in alive.values())
        what = "weights"
    _check_amount(amount, live, total, what)
    if budgets is not None:
        check_budgets(budgets, [l.name for l in links] if links else names)

    # ---- scores (after every argument was checked) --------------------------------------------
    raw = crit(model, batch=batch, loss_fn=loss_fn, names=names, **kwargs)
    if links:
        if spectral:
            need = units_needed(model, batch=batch, names=[l.name for l in links])
            budgets = {n: min(k, int(u_alive[n].sum())) for n, k in need.items()}
            method = "budgets"
        us = unit_scores(raw, alive, links)
        keep_units = _select(us, u_alive, method, amount if not spectral else None, min_density, budgets)
        new = weight_masks(alive, keep_units, links)
    else:
        if crit.granularity == "neuron":  # one score per unit: every weight of the unit shares it
            raw = expand_scores(raw, model)
        new = _select(raw, alive, method, amount, min_density, budgets)
    check_collapse(new, force=force)
    if apply:
        apply_pruning(model, new, criterion=criterion if update else None, batch=batch, optimizer=optimizer)
        if enforce:
            return enforce_masks(model, new, optimizer=optimizer)
    return MaskHandle(model, new)


@torch.no_grad()
def apply_pruning(model: nn.Module, masks: Mapping[str, torch.Tensor], *, criterion: str | None = None,
                  batch=None, damp: float = 0.01, optimizer: torch.optim.Optimizer | None = None) -> None:
    """Zero pruned weights in place; for ``obs`` first refit the kept weights (OBS update), for
    ``variance`` first fold the removed connections' means into the biases. With `optimizer`, the
    pruned entries' state is dropped and a shrinking SparseLinear's survivors keep theirs."""
    params = dict(model.named_parameters())
    sparse = sparse_layers(model)
    dense = model
    if sparse and criterion in ("obs", "variance"):
        from ..nn import export_dense  # lazy: nn sits above prune's building blocks

        dense = export_dense(model)  # the corrections are computed on the dense twin
    if criterion == "obs":
        for n, w in obs_compensate(dense, masks, batch=batch, damp=damp).items():
            if n in sparse and n not in params:  # a SparseLinear: refit its live values
                layer_views(model)[n].load_dense_(w)
            else:
                params[n].copy_(w)
    elif criterion == "variance":
        for n, b in variance_fold(dense, masks, batch=batch).items():
            params[n].copy_(b)
    apply_masks(model, masks, optimizer=optimizer)
