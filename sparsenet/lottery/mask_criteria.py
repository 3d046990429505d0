"""Mask criteria of Zhou et al.: which weights a ticket keeps, from initial and final values.

Zhou, Lan, Liu & Yosinski, "Deconstructing Lottery Tickets: Zeros, Signs, and the Supermask",
NeurIPS 2019, arXiv:1905.01067, Table 1. Scores (higher = keep), w_i initial, w_f trained:

    large_final             |w_f|
    small_final             -|w_f|
    large_init              |w_i|
    large_final_same_sign   max(0, sign(w_i) · w_f)     (|w_f| if the sign kept, else 0)
    magnitude_increase      |w_f| - |w_i|
    movement                |w_f - w_i|
    random                  u ~ U(0, 1)  (from an explicit generator)

Selection among survivors with exact counts is `sparsenet.masks`' job; this module only scores.
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch

from ..registry import Registry

Rule = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]
MASK_CRITERIA: Registry[Rule] = Registry("mask criterion")

MASK_CRITERIA.register("large_final", lambda wi, wf, g: wf.abs())
MASK_CRITERIA.register("small_final", lambda wi, wf, g: -wf.abs())
MASK_CRITERIA.register("large_init", lambda wi, wf, g: wi.abs())
MASK_CRITERIA.register("large_final_same_sign", lambda wi, wf, g: (torch.sign(wi) * wf).clamp_min(0))
MASK_CRITERIA.register("magnitude_increase", lambda wi, wf, g: wf.abs() - wi.abs())
MASK_CRITERIA.register("movement", lambda wi, wf, g: (wf - wi).abs())
MASK_CRITERIA.register("random", lambda wi, wf, g: torch.rand(wf.shape, generator=g))


def criterion_names() -> list[str]:
    """Names of the registered lottery mask criteria (Zhou et al. 2019), sorted."""
    return MASK_CRITERIA.names()


def mask_scores(criterion: str, init: Mapping[str, torch.Tensor], final: Mapping[str, torch.Tensor],
                names: list[str], seed: int = 0) -> dict[str, torch.Tensor]:
    """``{name: score}`` of `criterion` for the weights `names` (unknown name: error listing all).

    >>> wi = {"w": torch.tensor([1., -1., 2., -2.])}
    >>> wf = {"w": torch.tensor([3., 3., -1., -4.])}
    >>> mask_scores("large_final_same_sign", wi, wf, ["w"])["w"]
    tensor([3., 0., 0., 4.])
    """
    rule = MASK_CRITERIA.get(criterion)
    g = torch.Generator().manual_seed(seed)
    return {n: rule(init[n].detach().float(), final[n].detach().float(), g) for n in names}


__all__ = ["MASK_CRITERIA", "criterion_names", "mask_scores"]
