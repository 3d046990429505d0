"""The prune step of a run: select masks by magnitude, shrink, convert to SparseLinear."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from ..masks import budget_masks, count_live, halving_masks, prunable_names, select_layerwise, select_global
from ..masks import apply_masks, magnitude_scores, remove_unconnected
from ..nn import SparseLinear, sparsify


def pruned_names(model: nn.Module, cfg) -> list[str]:
    skip = [s for s in cfg.skip if s]
    names = prunable_names(model, skip=skip)
    if not names:
        raise ConfigError(f"--skip {','.join(cfg.skip)} leaves no layer to prune; "
                          f"prunable layers: {', '.join(prunable_names(model))}")
    return names


def check_prune_feasible(model: nn.Module, cfg) -> None:
    """Fail before any training when the budget cannot fit the layers."""
    if cfg.prune == "none" or cfg.rule == "sparsity" or cfg.budget is None:
        return
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


def prune_model(model: nn.Module, masks: dict, remove: bool) -> tuple[nn.Module, dict, dict]:
    """Apply masks, optionally remove unconnected units, and convert masked layers to SparseLinear."""
    apply_masks(model, masks)
    shrink = {}
    if remove and hasattr(model, "layers"):
        model, masks, shrink = remove_unconnected(model, masks)
    return sparsify(model, masks), masks, shrink


def weight_layers(model: nn.Module):
    """(module name, layer) for every Linear / SparseLinear."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Linear, SparseLinear))]


def live_weight_count(model: nn.Module) -> int:
    return sum(m.nnz if isinstance(m, SparseLinear) else m.weight.numel() for _, m in weight_layers(model))


__all__ = ["select_masks", "prune_model", "check_prune_feasible", "pruned_names", "weight_layers",
           "live_weight_count", "count_live"]
