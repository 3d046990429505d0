"""A fixed total live-weight budget for a chain of Linear layers: prune the output layer first.

Pruning every layer of an MLP independently by magnitude at a small total budget leaves most
surviving hidden weights on units whose outgoing weights were all pruned: those units are then
removed, and the network keeps far fewer weights than the budget. Here selection runs from the
output layer back to the input layer, and each layer keeps weights only on the units that still
feed the layer after it:

    M_L      = select(|W_L|, k_L)                                  (output layer, among all)
    M_l      = select(|W_l|, k_l) among rows i with  any_j M_{l+1}[j, i]      (l = L-1 .. 1)

so the total is sum_l k_l at every width (less a few units that end up with no inputs).
`select` is the seed's halving at the median (``rule="halving"``, live count <= k) or an exact
top-k (``rule="budget"``, live count = k); ties follow `topk_mask` (lower flat index first).
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..errors import ConfigError
from .core import Masks, prunable_names
from .select import budget_masks, halving_masks

RULES = ("budget", "halving")


def _chain(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """(name, weight) of the prunable weights, checked to form a chain of matrices."""
    params = dict(model.named_parameters())
    chain = [(n, params[n]) for n in prunable_names(model)]
    for (n0, w0), (n1, w1) in zip(chain, chain[1:]):
        if w0.dim() != 2 or w1.dim() != 2 or w1.shape[1] != w0.shape[0]:
            raise ConfigError(
                f"an output-layer budget needs an MLP (a chain of Linear layers); {n0} "
                f"{tuple(w0.shape)} does not feed {n1} {tuple(w1.shape)}")
    return chain


def output_first_masks(model: nn.Module, budgets: Mapping[str, int], rule: str = "budget") -> Masks:
    """Masks for the layers named in `budgets` (live weights per layer), output layer first.

    `budgets` must name the output layer (the last prunable weight). A layer not named is kept
    dense; a layer before it then selects among all its rows again. A budget larger than the
    weights a layer has on connected units raises `ConfigError` naming both numbers.

    >>> from sparsenet.models import MLP
    >>> net = MLP([3, 2, 2])
    >>> with torch.no_grad():
    ...     _ = net.layers[0].weight.copy_(torch.tensor([[9., 8., 7.], [1., 2., 3.]]))
    ...     _ = net.layers[1].weight.copy_(torch.tensor([[0.1, 5.], [0.2, -4.]]))
    >>> m = output_first_masks(net, {"layers.0.weight": 2, "layers.1.weight": 2})
    >>> m["layers.1.weight"].tolist()     # the two largest |w| both read hidden unit 1
    [[False, True], [False, True]]
    >>> m["layers.0.weight"].tolist()     # so unit 1's inputs are kept, not unit 0's larger ones
    [[False, False, False], [False, True, True]]
    """
    if rule not in RULES:
        raise ConfigError(f"unknown rule {rule!r} for an output-layer budget; valid: {', '.join(RULES)}")
    chain = _chain(model)
    out_name = chain[-1][0]
    unknown = [n for n in budgets if n not in dict(chain)]
    if unknown:
        raise ConfigError(f"budgets name {unknown}, which are not prunable weights of the model "
                          f"({', '.join(n for n, _ in chain)})")
    if out_name not in budgets:
        raise ConfigError(f"budgets must include the output layer {out_name!r}")
    masks: Masks = {}
    feeds = None  # (units,) bool: units of the layer being selected that feed the next layer
    for name, weight in reversed(chain):
        if name not in budgets:
            feeds = torch.ones(weight.shape[1], dtype=torch.bool, device=weight.device)
            continue
        k = budgets[name]
        alive = torch.ones_like(weight, dtype=torch.bool)
        if feeds is not None:
            alive &= feeds[:, None]
        n_alive = int(alive.sum())
        if rule == "budget" and k > n_alive:
            raise ConfigError(
                f"budget {k} for {name} is more than its {n_alive} weights on units that keep an "
                f"output; raise the output-layer budget or lower the budget")
        if rule == "budget":
            mask = budget_masks(model, [name], k, alive={name: alive})[name]
        else:
            mask = halving_masks(model, [name], alive={name: alive}, budget=k)[0][name]
        masks[name] = mask
        feeds = mask.any(dim=0)
    return {n: masks[n] for n, _ in chain if n in masks}


__all__ = ["output_first_masks", "RULES"]
