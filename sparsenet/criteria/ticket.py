"""Ticket criteria of Zhou et al.: which weights a lottery ticket keeps, from initial and final values.

Zhou, Lan, Liu & Yosinski, "Deconstructing Lottery Tickets: Zeros, Signs, and the Supermask",
NeurIPS 2019, arXiv:1905.01067, Table 1. Scores (higher = keep), w_i initial, w_f trained:

    large_final             |w_f|
    small_final             -|w_f|
    large_init              |w_i|
    large_final_same_sign   max(0, sign(w_i) · w_f)     (|w_f| if the sign kept, else 0)
    magnitude_increase      |w_f| - |w_i|
    large_movement          |w_f - w_i|                  (the paper's "movement"; renamed, since
                                                         `movement` is Sanh et al.'s criterion)
    random                  u ~ U(0, 1)  (from an explicit generator; shared with the model family)

They are the ``"ticket"`` family of the one registry `CRITERIA`: each carries its
``rule(w_i, w_f, generator)``; `ticket_scores` applies it to two state dicts, and called on a model
(``score(model, "large_init", init=theta0)``) the model's weights are w_f. Selection among
survivors with exact counts is `sparsenet.masks`' job; this module only scores.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..errors import ConfigError
from .base import Scores, get_criterion, register, target_names

_NEEDS = "the ticket's initial weights: init={name: tensor}"
_PAPER = "Zhou et al. 2019, arXiv:1905.01067, Table 1: "

RULES = {
    "large_final": (lambda wi, wf, g: wf.abs(), "|w_f|"),
    "small_final": (lambda wi, wf, g: -wf.abs(), "-|w_f|"),
    "large_init": (lambda wi, wf, g: wi.abs(), "|w_i|"),
    "large_final_same_sign": (lambda wi, wf, g: (torch.sign(wi) * wf).clamp_min(0), "max(0, sign(w_i) w_f)"),
    "magnitude_increase": (lambda wi, wf, g: wf.abs() - wi.abs(), "|w_f| - |w_i|"),
    "large_movement": (lambda wi, wf, g: (wf - wi).abs(), "|w_f - w_i| (the paper's 'movement')"),
}


def _model_form(name: str, rule):
    """`rule` as a criterion on a model holding w_f, with ``init`` holding w_i."""

    def fn(model: nn.Module, *, batch=None, loss_fn=None, names=None, init: Mapping | None = None,
           seed: int = 0) -> Scores:
        if init is None:
            raise ConfigError(f"criterion {name!r} needs {_NEEDS}")
        params = dict(model.named_parameters())
        names = target_names(model, names)
        missing = [n for n in names if n not in init]
        if missing:
            raise ConfigError(f"criterion {name!r}: init has no {missing[0]!r}; give init for {names}")
        g = torch.Generator().manual_seed(int(seed))
        return {n: rule(init[n].detach().float().to(params[n].device), params[n].detach().float(), g)
                for n in names}

    fn.__name__ = fn.__qualname__ = name
    return fn


for _name, (_rule, _formula) in RULES.items():
    register(_name, needs=_NEEDS, paper=_PAPER + _formula, families=("ticket",), rule=_rule)(
        _model_form(_name, _rule))


def ticket_scores(criterion: str, init: Mapping[str, torch.Tensor], final: Mapping[str, torch.Tensor],
                  names: list[str], seed: int = 0) -> dict[str, torch.Tensor]:
    """``{name: score}`` of ticket `criterion` for the weights `names` (one-line error otherwise).

    >>> wi = {"w": torch.tensor([1., -1., 2., -2.])}
    >>> wf = {"w": torch.tensor([3., 3., -1., -4.])}
    >>> ticket_scores("large_final_same_sign", wi, wf, ["w"])["w"]
    tensor([3., 0., 0., 4.])
    """
    rule = get_criterion(criterion, family="ticket").rule
    g = torch.Generator().manual_seed(int(seed))
    return {n: rule(init[n].detach().float(), final[n].detach().float(), g) for n in names}


def ticket_criterion_names() -> list[str]:
    """Names of the ticket criteria (Zhou et al. 2019), sorted."""
    from .base import CRITERIA

    return CRITERIA.names("ticket")


__all__ = ["RULES", "ticket_criterion_names", "ticket_scores"]
