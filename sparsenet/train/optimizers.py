"""The one optimizer factory: every first-order optimizer the commands build comes from here.

`make_optimizer("sgd" | "adam", params, lr=, momentum=, weight_decay=)`; an unknown name is a
one-line error listing the valid ones. `momentum` is SGD's heavy-ball coefficient; Adam has its
own first moment (β1 = 0.9) and ignores it, so one config can switch optimizers with one flag.
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch

from ..registry import Registry

OPTIMIZERS: Registry[Callable[..., torch.optim.Optimizer]] = Registry("optimizer")


@OPTIMIZERS.register("sgd")
def _sgd(params, *, lr: float, momentum: float, weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


@OPTIMIZERS.register("adam")
def _adam(params, *, lr: float, momentum: float, weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def make_optimizer(name: str, params: Iterable, *, lr: float, momentum: float = 0.0,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """The optimizer `name` over `params` (SGD: plain, heavy-ball `momentum`; Adam: default betas)."""
    return OPTIMIZERS.get(name)(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def optimizer_names() -> list[str]:
    """The registered optimizer names (what `--optimizer` accepts)."""
    return OPTIMIZERS.names()


__all__ = ["OPTIMIZERS", "make_optimizer", "optimizer_names"]
