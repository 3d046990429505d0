"""Activation functions by name: ``"tanh"``, ``"relu"``, ``"leaky_relu"``.

The registry holds *factories* ``(leaky_slope) -> fn``; `activation_fn` returns a plain,
picklable callable on tensors (the model stays deep-copyable and picklable).
"""
from __future__ import annotations

import functools
import math
from typing import Callable

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from ..registry import Registry

Activation = Callable[[torch.Tensor], torch.Tensor]

ACTIVATIONS: Registry[Callable[[float], Activation]] = Registry("activation")
ACTIVATIONS.register("tanh", lambda leaky_slope: torch.tanh)
ACTIVATIONS.register("relu", lambda leaky_slope: F.relu)
ACTIVATIONS.register(
    "leaky_relu", lambda leaky_slope: functools.partial(F.leaky_relu, negative_slope=leaky_slope)
)


def activation_names() -> list[str]:
    """Names of the registered activations, sorted."""
    return ACTIVATIONS.names()


def check_activation(name: str, leaky_slope: float = 0.01) -> None:
    """Raise `ConfigError` for an unknown activation name or a non-finite slope."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ConfigError(
            f"unknown activation {name!r}; valid activations: {', '.join(activation_names())}"
        )
    if isinstance(leaky_slope, bool) or not isinstance(leaky_slope, (int, float)) or not math.isfinite(
        leaky_slope
    ):
        raise ConfigError(f"leaky_slope must be a finite number, got {leaky_slope!r}")


def activation_fn(name: str, leaky_slope: float = 0.01) -> Activation:
    """The activation called `name` as a function on tensors.

    `leaky_slope` is the negative slope of ``"leaky_relu"`` (ignored by the others).

    >>> activation_fn("leaky_relu", 0.5)(torch.tensor([-2.0, 3.0]))
    tensor([-1.,  3.])
    """
    check_activation(name, leaky_slope)
    return ACTIVATIONS.get(name)(float(leaky_slope))
