"""Structured pruning: whole neurons (MLP rows) or channels (conv filters).

Removing unit ``u`` of layer ``l`` masks row ``u`` of ``W_l`` (its incoming weights) *and* the
matching inputs of the next layer — column ``u`` of a Linear, input channel ``u`` of a Conv2d, or the
``S`` columns ``u·S .. u·S+S-1`` of a Linear that reads a flattened ``C×H×W`` map — so the unit
no longer influences anything and `sparsenet.prune.shrink` can delete it exactly.

The prunable weights are taken as a chain in model order (layer ``l+1`` reads layer ``l``'s
units), which holds for MLPs and `ConvNet`. Unit scores: a neuron criterion's scores as they are;
a weight criterion's scores summed over each unit's live incoming weights (for magnitude this is
the L1-norm filter criterion of Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017,
arXiv:1608.08710).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from ..criteria.base import module_of
from ..errors import ConfigError
from ..masks.layers import layer_view

STRUCTURES = ("unstructured", "neuron", "channel")


@dataclass(frozen=True)
class Link:
    """Layer `name` (a unit layer) and the next layer `succ`, which reads its units."""

    name: str
    succ: str
    spatial: int  # inputs of `succ` per unit (1, or H·W for a conv read by a Linear)


def check_structure(structure: str) -> str:
    if structure not in STRUCTURES:
        raise ConfigError(f"unknown structure {structure!r}; valid structures: {', '.join(STRUCTURES)}")
    return structure


def unit_links(model: nn.Module, names: list[str], structure: str) -> list[Link]:
    """The layers whose units `structure` prunes, each with its successor; one-line errors for
    unsupported layer types or weights that do not form a chain."""
    mods = {n: module_of(model, n) for n in names}
    views = {n: layer_view(m) for n, m in mods.items()}
    for n, m in mods.items():
        if views[n] is None or len(views[n].shape) not in (2, 4) or isinstance(m, nn.modules.conv._ConvNd) \
                and not isinstance(m, nn.Conv2d):
            raise ConfigError(f"structure {structure!r} supports Linear, SparseLinear and nn.Conv2d layers; {n!r} "
                              f"is a {type(m).__name__} (use structure='unstructured')")
    dims = {n: len(v.shape) for n, v in views.items()}  # 2: a linear layer, 4: a Conv2d
    want = 2 if structure == "neuron" else 4
    links = []
    for a, b in zip(names[:-1], names[1:]):
        units, n_in = views[a].shape[0], views[b].shape[1]
        if n_in == units:
            spatial = 1
        elif dims[a] == 4 and dims[b] == 2 and n_in % units == 0:
            spatial = n_in // units
        else:
            raise ConfigError(f"structured pruning needs the prunable layers in a chain: {a!r} has {units} "
                              f"outputs but the next, {b!r}, has {n_in} inputs")
        if dims[a] == want:
            links.append(Link(a, b, spatial))
    if not links:
        kind = "Linear layer followed by another" if structure == "neuron" else "Conv2d layer"
        other = "channel" if structure == "neuron" else "neuron"
        raise ConfigError(f"structure {structure!r} needs a {kind} among {', '.join(names)}; "
                          f"try structure={other!r} or 'unstructured'")
    return links


def unit_alive(masks: Mapping[str, torch.Tensor], link: Link) -> torch.Tensor:
    """Units with a live incoming weight and a live outgoing weight."""
    m_in = masks[link.name].reshape(masks[link.name].shape[0], -1).any(1)
    succ = masks[link.succ]
    cols = succ.reshape(succ.shape[0], succ.shape[1], -1).any(2).any(0)  # (n_in,)
    if link.spatial > 1:
        cols = cols.reshape(-1, link.spatial).any(1)
    return m_in & cols


def unit_scores(scores: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor], links: list[Link]) -> dict[str, torch.Tensor]:
    """One score per unit of each link's layer (see module docstring)."""
    out = {}
    for link in links:
        s, m = scores[link.name], masks[link.name]
        if s.dim() == 1:
            out[link.name] = s.clone()
        else:
            out[link.name] = s.masked_fill(~m.to(s.device), 0).reshape(s.shape[0], -1).sum(1)  # dead: -inf
    return out


def weight_masks(masks: Mapping[str, torch.Tensor], keep_units: Mapping[str, torch.Tensor], links: list[Link]) -> dict[str, torch.Tensor]:
    """`masks` with the rows of removed units and the matching inputs of the next layer cleared."""
    out = {n: m.clone() for n, m in masks.items()}
    for link in links:
        keep = keep_units[link.name]
        rows = keep.reshape(-1, *([1] * (out[link.name].dim() - 1)))
        out[link.name] &= rows
        cols = keep.repeat_interleave(link.spatial) if link.spatial > 1 else keep
        succ = out[link.succ]
        out[link.succ] = succ & cols.reshape(1, -1, *([1] * (succ.dim() - 2)))
    return out
