"""Newton in the pruned subspace: parameter groups whose Hessian is restricted to live weights.

After pruning (seed 000: magnitude pruning to a few thousand live weights), the live weights
are few enough for the exact Hessian of seed 001: with ``P`` selecting the live entries, the
optimizers work with ``g_live = P g`` and ``H_live = P H Pᵀ`` (rows ``H e_i`` only for live i, so
the cost is the live count, not the dense count, of Hessian-vector products). Dead weights are
never read into the step and never written: they stay exactly zero.

>>> from sparsenet.models import MLP
>>> net = MLP([4, 3, 2])
>>> masks = {"layers.0.weight": torch.rand(3, 4) > 2}  # everything pruned in the first layer
>>> groups = live_param_groups(net, masks)
>>> live_count(groups)  # 3 + 6 + 2 live: the first bias and the whole last layer
11
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..errors import ConfigError
from .space import ParamSpace


def live_param_groups(model: nn.Module, masks: Mapping[str, torch.Tensor], block: str = "full",
                      include_unmasked: bool = True) -> list[dict]:
    """Param groups with ``"masks"`` for `SaddleFreeNewton` & co.

    `masks` maps parameter names to bool tensors (True = live); parameters without a mask are
    fully live (`include_unmasked`) or left out. block="full": one group (one Hessian over every
    live weight); block="layer": one group per module owning parameters (the seed's blocks).
    """
    if block not in ("full", "layer"):
        raise ConfigError(f"block={block!r}; valid choices: full, layer")
    named = dict(model.named_parameters())
    unknown = [n for n in masks if n not in named]
    if unknown:
        raise ConfigError(f"masks name no parameter of the model: {unknown}; parameters: {', '.join(named)}")
    groups: dict[str, dict] = {}
    for name, p in named.items():
        if name not in masks and not include_unmasked:
            continue
        key = "all" if block == "full" else name.rpartition(".")[0]
        grp = groups.setdefault(key, {"params": [], "masks": [], "names": []})
        grp["params"].append(p)
        grp["masks"].append(masks.get(name))
        grp["names"].append(name)
    return list(groups.values())


def layer_groups(model: nn.Module) -> list[dict]:
    """One param group per module that owns parameters (weight and bias together): the seed's blocks."""
    return live_param_groups(model, {}, block="layer")


def live_count(groups: list[dict]) -> int:
    """The number of live entries over `groups` (the size of the Newton system)."""
    return sum(ParamSpace(g["params"], g.get("masks")).numel for g in groups)


__all__ = ["live_param_groups", "layer_groups", "live_count"]
