"""Mask criteria of Zhou et al. for lottery tickets: the ``"ticket"`` family of `sparsenet.criteria`.

The rules (large_final, small_final, large_init, large_final_same_sign, magnitude_increase,
large_movement, random) live in `sparsenet.criteria.ticket`, registered in the one criterion
registry; this module gives the lottery code its names and scores. The paper's ``movement``
(|w_f - w_i|) is ``large_movement`` here (``movement`` is Sanh et al.'s criterion); the old
name fails with one line naming the new one.
"""
from __future__ import annotations

from typing import Mapping

import torch

from ..criteria.ticket import ticket_criterion_names, ticket_scores


def criterion_names() -> list[str]:
    """Names of the lottery mask criteria (the ticket family, Zhou et al. 2019), sorted."""
    return ticket_criterion_names()


def mask_scores(criterion: str, init: Mapping[str, torch.Tensor], final: Mapping[str, torch.Tensor],
                names: list[str], seed: int = 0) -> dict[str, torch.Tensor]:
    """``{name: score}`` of ticket `criterion` for the weights `names` (unknown name: error listing all).

    >>> wi = {"w": torch.tensor([1., -1., 2., -2.])}
    >>> wf = {"w": torch.tensor([3., 3., -1., -4.])}
    >>> mask_scores("large_final_same_sign", wi, wf, ["w"])["w"]
    tensor([3., 0., 0., 4.])
    """
    return ticket_scores(criterion, init, final, names, seed=seed)


__all__ = ["criterion_names", "mask_scores"]
