"""The prune step of a run: select masks by magnitude, shrink, convert to SparseLinear."""
from __future__ import annotations

import torch
from torch import nn

from ...errors import ConfigError
from ...masks import budget_masks, count_live, halving_masks, prunable_names, select_layerwise, select_global
from ...masks import apply_masks, magnitude_scores, remove_unconnected
from ...masks.output_first import output_first_masks
from ...nn import HashedLinear, LowRankLinear, SparseLinear, sparsify
from ..feasibility import check_keeps_weights, check_pruned


def pruned_names(model: nn.Module, cfg) -> list[str]:
    skip = [s for s in cfg.skip if s]
    names = prunable_names(model, skip=skip)
    if not names:
        raise ConfigError(f"--skip {','.join(cfg.skip)} leaves no layer to prune; "
                          f"prunable layers: {', '.join(prunable_names(model))}")
    return names


def output_budgets(model: nn.Module, cfg) -> dict[str, int]:
    """Live weights per layer with --output-budget: --budget for every pruned layer, the output
    layer (pruned even when --skip names it) --output-budget."""
    out = prunable_names(model)[-1]
    others = [n for n in prunable_names(model, skip=[s for s in cfg.skip if s]) if n != out]
    return {**{n: cfg.budget for n in others}, out: cfg.output_budget}


def _check_output_budget(model: nn.Module, cfg) -> None:
    """The layers' sizes, and (rule budget) the fewest weights a layer is sure to have on units
    that keep an output: k live weights of an (out, units) layer cover >= ceil(k / out) units."""
    budgets = output_budgets(model, cfg)
    params = dict(model.named_parameters())
    names = prunable_names(model)
    for n, k in budgets.items():
        if cfg.rule == "budget" and k > params[n].numel():
            flag = "--output-budget" if n == names[-1] else "--budget"
            raise ConfigError(f"{flag} {k} is larger than layer {n} ({params[n].numel()} weights); "
                              f"use {flag} <= {params[n].numel()}")
    if cfg.rule != "budget":
        return
    for this, nxt in zip(names, names[1:]):
        if this in budgets and nxt in budgets and params[nxt].dim() == 2 and params[this].dim() == 2:
            out_n, in_this = params[nxt].shape[0], params[this].shape[1]
            sure = -(-budgets[nxt] // out_n) * in_this
            if budgets[this] > sure:
                raise ConfigError(
                    f"--budget {budgets[this]} may not fit layer {this}: {budgets[nxt]} live weights "
                    f"in {nxt} can leave only {sure} of its weights on units with an output; use "
                    f"--budget <= {sure} or a larger --output-budget")


def check_prune_feasible(model: nn.Module, cfg) -> None:
    """Fail before any training when the budget cannot fit the layers."""
    if cfg.prune != "none" and getattr(cfg, "output_budget", None) is None:
        names = pruned_names(model, cfg)
        check_keeps_weights({n: p.numel() for n, p in model.named_parameters() if n in names}, cfg)
    if cfg.prune == "none" or cfg.rule == "sparsity" or cfg.budget is None:
        return
    if getattr(cfg, "output_budget", None) is not None:
        return _check_output_budget(model, cfg)
    sizes = {n: p.numel() for n, p in model.named_parameters() if n in pruned_names(model, cfg)}
    if cfg.rule == "budget":
        if cfg.scope == "global" and cfg.budget > sum(sizes.values()):
            raise ConfigError(f"--budget {cfg.budget} is larger than the {sum(sizes.values())} weights "
                              f"of the pruned layers; use a smaller --budget")
        if cfg.scope == "layerwise":
            for n, size in sizes.items():
                if cfg.budget > size:
                    raise ConfigError(f"--budget {cfg.budget} is larger than layer {n} ({size} weights); "
                                      f"use --budget <= {size}, --scope global or --rule halving")


def select_masks(model: nn.Module, cfg) -> tuple[dict, int]:
    """Masks for the pruned layers and the number of halving rounds (0 for other rules)."""
    if getattr(cfg, "output_budget", None) is not None:
        # Fixed total: the output layer first, then the others only on units that keep an output.
        return output_first_masks(model, output_budgets(model, cfg), rule=cfg.rule), 0
    names = pruned_names(model, cfg)
    if cfg.rule == "halving":
        budget = None if cfg.halvings is not None else cfg.budget
        return halving_masks(model, names, times=cfg.halvings, budget=budget)
    if cfg.rule == "budget":
        return budget_masks(model, names, cfg.budget, scope=cfg.scope), 0
    scores = magnitude_scores(model, names)
    alive = {n: torch.ones_like(s, dtype=torch.bool) for n, s in scores.items()}
    pick = select_global if cfg.scope == "global" else select_layerwise
    return pick(scores, alive, sparsity=cfg.sparsity), 0


def prune_model(model: nn.Module, masks: dict, remove: bool, *, sparse: bool = True) -> tuple[nn.Module, dict, dict]:
    """Apply masks, optionally remove unconnected units, and (`sparse`) convert masked layers to
    SparseLinear; with ``sparse=False`` the layers stay dense (for `sparsenet.train.execution`)."""
    check_pruned(masks)  # a layer emptied by a global ranking
    apply_masks(model, masks)
    shrink = {}
    if remove and hasattr(model, "layers"):
        before = {n: m for n, m in masks.items()}
        model, masks, shrink = remove_unconnected(model, masks)
        check_pruned(before, model)  # no hidden unit left on a path from input to output
    return (sparsify(model, masks) if sparse else model), masks, shrink


def weight_layers(model: nn.Module):
    """(module name, layer) for every Linear / SparseLinear."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Linear, SparseLinear))]


def stored_layers(model: nn.Module):
    """(module name, layer) for every weight layer a result counts: Linear, SparseLinear and the
    compressed layers (HashedLinear, LowRankLinear)."""
    kinds = (nn.Linear, SparseLinear, HashedLinear, LowRankLinear)
    return [(n, m) for n, m in model.named_modules() if isinstance(m, kinds)]


def stored_weights(layer: nn.Module) -> int:
    """Weights a layer stores: CSR values, hash buckets, the learned factor V (plus U when it
    trains), or the dense matrix."""
    if isinstance(layer, SparseLinear):
        return layer.nnz
    if isinstance(layer, HashedLinear):
        return layer.buckets
    if isinstance(layer, LowRankLinear):
        return layer.learned_parameters
    return layer.weight.numel()


def live_weight_count(model: nn.Module) -> int:
    return sum(stored_weights(m) for _, m in stored_layers(model))


__all__ = ["select_masks", "prune_model", "check_prune_feasible", "pruned_names", "weight_layers",
           "live_weight_count", "count_live", "stored_layers", "stored_weights"]
