"""Activation-variance pruning with bias folding — the seed's rule (lecture 8, slide 8):

"If a connection (a source neuron multiplied by the weight) has little variance across all
training examples, then it can be removed and added to the bias."

For a layer ``z_i = Σ_j w_ij a_j + b_i`` with inputs ``a_j`` (conv: unfolded patch entries), the
connection's contribution ``w_ij a_j`` has variance over the data
score(w_ij) = w_ij² · Var_n(a_j)    (higher = keep),
and removing it while adding its mean to the bias, ``b_i += w_ij · E_n[a_j]``, keeps the layer's
output exact in the mean and changes it only by the (small) centred part ``w_ij (a_j - E a_j)``.
`fold` returns those corrected biases.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..errors import ConfigError
from .base import Scores, as_matrix, layer_io, module_of, need_batch, register, target_names

_NEEDS = "a batch of training inputs (x, y) to measure each connection's variance, e.g. 256"


@register("variance", needs=_NEEDS, paper="seed lecture 8, slide 8: w_ij^2 Var(a_j); fold w_ij E[a_j] into b_i")
def variance(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """``w_ij² · Var(a_j)`` per connection."""
    x, _ = need_batch("variance", batch, _NEEDS)
    names = target_names(model, names)
    io = layer_io(model, names, x, "variance")
    params = dict(model.named_parameters())
    out = {}
    for n in names:
        a = io[n][0].to(torch.float64)
        var = a.var(dim=0, unbiased=False)  # (fan_in,)
        W = as_matrix(params[n].detach()).to(torch.float64)
        out[n] = (W ** 2 * var).reshape(params[n].shape).to(params[n].dtype)
    return out


@torch.no_grad()
def fold(model: nn.Module, masks: Mapping[str, torch.Tensor], *, batch) -> dict[str, torch.Tensor]:
    """``{bias name: b + Σ_{pruned j} w_ij E[a_j]}`` for every masked layer with a bias.

    Pure: returns new bias tensors. Weights already zero contribute nothing, so calling it on a
    partly pruned model only folds what the new masks remove.
    """
    x, _ = need_batch("variance", batch, _NEEDS)
    names = list(masks)
    io = layer_io(model, names, x, "variance")
    params = dict(model.named_parameters())
    out = {}
    for n in names:
        mod = module_of(model, n)
        if getattr(mod, "bias", None) is None:
            raise ConfigError(f"cannot fold pruned connections of {n!r} into a bias: the layer has none")
        mean = io[n][0].to(torch.float64).mean(dim=0)  # (fan_in,)
        W = as_matrix(params[n].detach()).to(torch.float64)
        removed = W * (~as_matrix(masks[n].to(W.device))).to(W.dtype)  # (out, fan_in)
        bias_name = n.rsplit(".", 1)[0] + ".bias" if "." in n else "bias"
        out[bias_name] = (mod.bias.detach().to(torch.float64) + removed @ mean).to(mod.bias.dtype)
    return out
