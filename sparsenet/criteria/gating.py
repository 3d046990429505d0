"""Gating: score a weight or a neuron by the gradient of the loss w.r.t. a multiplicative gate.

Mozer & Smolensky, "Skeletonization: A Technique for Trimming the Fat from a Network via
Relevance Assessment", NIPS 1 (1989); seed lecture 8, slide 9 H ("differentiate gating to
determine weight importance"). A gate ``g = 1`` multiplies each unit's output (``gating``) or each
weight (``gating-weight``); the relevance is the loss change when the gate moves, to first order
score = |∂L/∂g| at g = 1, with L the mean loss over the batch.

Neuron gate on output ``z_i`` (before the activation; summed over conv positions):
``∂L/∂g_i = (1/N) Σ_n Σ_m z_{n,i,m} ∂L_n/∂z_{n,i,m}`` — unlike `taylor-neuron` the absolute value
is taken after averaging over examples. Weight gate ``W ⊙ G``: ``∂L/∂G = W ⊙ ∂L/∂W``, which at
G = 1 coincides with the first-order Taylor score; the gates are built explicitly here.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from .base import Scores, detached_params, loss_or_default, need_batch, register, target_names
from .taylor import unit_output_products

_NEEDS = "a batch of training examples (x, y), e.g. 256"


@register("gating", needs=_NEEDS, granularity="neuron",
          paper="Mozer & Smolensky 1989 (NIPS 1): |dL/d gate| per unit")
def gating(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """``|∂L/∂g_i|`` for a gate on every output unit of each named layer."""
    x, y = need_batch("gating", batch, _NEEDS)
    names = target_names(model, names)
    prods = unit_output_products(model, names, x, y, loss_fn, "gating", reduce="sum")
    return {n: p.mean(0).abs() for n, p in prods.items()}


@register("gating-weight", needs=_NEEDS, paper="Mozer & Smolensky 1989 (NIPS 1): |dL/d gate| per weight")
def gating_weight(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """``|∂L/∂G|`` for a gate on every named weight (``W ⊙ G``, G = 1)."""
    x, y = need_batch("gating-weight", batch, _NEEDS)
    names = target_names(model, names)
    base = detached_params(model)
    gates = {n: torch.ones_like(base[n], requires_grad=True) for n in names}
    loss = loss_or_default(loss_fn)(functional_call(model, {**base, **{n: base[n] * gates[n] for n in names}}, (x,)), y)
    g = torch.autograd.grad(loss, [gates[n] for n in names], allow_unused=True)
    return {n: (torch.zeros_like(base[n]) if gi is None else gi.abs()) for n, gi in zip(names, g)}
