"""Controls for a lottery ticket: the same mask with other weights, or the weights with another mask.

Frankle & Carbin 2019 (arXiv:1803.03635) compare a ticket with a random reinitialisation of its
subnetwork; Zhou, Lan, Liu & Yosinski, "Deconstructing Lottery Tickets: Zeros, Signs, and the
Supermask", NeurIPS 2019 (arXiv:1905.01067) add:

* reinit      w = w'  ⊙ m, w' a fresh draw from the initialisation distribution;
* reshuffle   w = π_l(w_0|m) per layer l: the surviving initial values of each layer, permuted
              among that layer's surviving positions (same multiset, same mask);
* constant    w = a_l · sign(w_0) ⊙ m, a_l = std of layer l's full initial weight tensor;
* random mask w = w_0 ⊙ m', m' uniformly random with the same number of survivors per layer.

Every function takes an explicit `torch.Generator`, so a control is a pure function of its seed.
Parameters not in the mask (biases) keep their rewound values, except for `reinit` which redraws
every parameter.
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import nn

from ..errors import ConfigError
from ..masks import Masks

State = dict[str, torch.Tensor]

CONTROLS = ("reinit", "reshuffle", "constant", "random_mask")


def reinit_state(build: Callable[[], nn.Module], seed: int) -> State:
    """A fresh initialisation: `build()` under ``torch.manual_seed(seed)`` (global RNG restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def reshuffle_state(state: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor],
                    generator: torch.Generator) -> State:
    """Permute each masked layer's surviving values among its surviving positions."""
    out = {k: v.clone() for k, v in state.items()}
    for n, m in masks.items():
        flat = out[n].view(-1)
        idx = m.reshape(-1).nonzero().squeeze(1)
        perm = torch.randperm(idx.numel(), generator=generator)
        flat[idx] = state[n].reshape(-1)[idx][perm]
        flat[~m.reshape(-1)] = 0
    return out


def constant_state(state: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor],
                   init: Mapping[str, torch.Tensor] | None = None) -> State:
    """``a_l · sign(w)`` on each masked layer, a_l = std of the layer in `init` (default `state`).

    A weight whose initial value is exactly 0 gets +a (sign 0 would silently prune it).
    """
    init = state if init is None else init
    out = {k: v.clone() for k, v in state.items()}
    for n, m in masks.items():
        a = float(init[n].float().std())
        sign = torch.where(state[n] < 0, -1.0, 1.0).to(state[n].dtype)
        out[n] = (a * sign) * m
    return out


def random_masks(masks: Mapping[str, torch.Tensor], generator: torch.Generator) -> Masks:
    """Uniformly random masks with exactly the same number of survivors per layer."""
    out: Masks = {}
    for n, m in masks.items():
        keep = int(m.sum())
        pick = torch.randperm(m.numel(), generator=generator)[:keep]
        r = torch.zeros(m.numel(), dtype=torch.bool)
        r[pick] = True
        out[n] = r.reshape(m.shape)
    return out


def control_start(kind: str, state: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor], *,
                  seed: int, build: Callable[[], nn.Module]) -> tuple[State, Masks]:
    """(starting weights, masks) of control `kind` for a ticket (`state`, `masks`)."""
    g = torch.Generator().manual_seed(seed)
    if kind == "reinit":
        return reinit_state(build, seed), dict(masks)
    if kind == "reshuffle":
        return reshuffle_state(state, masks, g), dict(masks)
    if kind == "constant":
        return constant_state(state, masks), dict(masks)
    if kind == "random_mask":
        return {k: v.clone() for k, v in state.items()}, random_masks(masks, g)
    raise ConfigError(f"unknown control {kind!r}; valid controls: {', '.join(CONTROLS)}")


__all__ = ["CONTROLS", "constant_state", "control_start", "random_masks", "reinit_state", "reshuffle_state"]
