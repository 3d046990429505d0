"""Engine hooks shared by every method that trains a masked network.

`MaskHook` is the engine form of `sparsenet.masks.enforce_masks` (the same `zero_pruned_`
operation): it zeroes the gradients of pruned weights after backward (so momentum / Adam moments
do not build up there) and re-zeroes the weights after every optimizer step (weight decay and Adam
could otherwise move them): pruned weights stay exactly zero. Outside the engine, use
`enforce_masks` (or the handle `sparsenet.prune.prune` returns), which works in any loop.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..masks import zero_pruned_


class MaskHook:
    """Engine hook: pruned weights get no gradient and stay exactly zero."""

    def __init__(self, masks: Mapping[str, torch.Tensor]):
        self.masks = dict(masks)

    @torch.no_grad()
    def after_backward(self, model: nn.Module) -> None:
        params = dict(model.named_parameters())
        for n, m in self.masks.items():
            g = params[n].grad
            if g is not None:
                zero_pruned_(g, m)

    def after_step(self, model: nn.Module) -> None:
        params = dict(model.named_parameters())
        for n, m in self.masks.items():
            zero_pruned_(params[n], m)
