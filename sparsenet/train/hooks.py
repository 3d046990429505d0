"""Engine hooks shared by every method that trains a masked network.

`MaskHook` zeroes the gradients of pruned weights after backward (so momentum / Adam moments do
not build up there) and re-zeroes the weights after every optimizer step (weight decay and Adam
could otherwise move them): pruned weights stay exactly zero.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..masks import apply_masks


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
                g.masked_fill_(~m, 0)

    def after_step(self, model: nn.Module) -> None:
        apply_masks(model, self.masks)
