"""The input checks every custom linear layer makes before its kernels run (one-line errors)."""
from __future__ import annotations

import torch

from ..errors import SparsenetError


def check_linear_input(layer: str, x: torch.Tensor, in_features: int, weight: torch.Tensor) -> None:
    """`x` must be ``(..., in_features)`` with `weight`'s dtype and device; else a one-line error
    naming `layer` (the class name) and the fix."""
    if x.shape[-1:] != (in_features,):
        raise SparsenetError(f"{layer} expects input (..., {in_features}), got {tuple(x.shape)}")
    if x.dtype != weight.dtype:
        raise SparsenetError(f"{layer} input dtype {x.dtype} differs from its weights' "
                             f"{weight.dtype}; convert the input or call layer.to({x.dtype})")
    if x.device != weight.device:
        raise SparsenetError(f"{layer} input is on {x.device} but its weights are on "
                             f"{weight.device}; move one of them")


__all__ = ["check_linear_input"]
