"""Hebbian pruning — "cells that fire together wire together" (Hebb, "The Organization of
Behavior", 1949; seed lecture 8, slide 9 F: correlated neurons connect, uncorrelated ones can be cut).

For a layer with inputs ``a_j`` (pre-synaptic; conv: patch entries) and outputs ``z_i``
(post-synaptic, before the activation), over the batch:
score(w_ij) = |corr_n(a_j, z_i)| = |Cov(a_j, z_i)| / (σ(a_j) σ(z_i))   (0 where a σ is 0).
"""
from __future__ import annotations

import torch
from torch import nn

from .base import Scores, layer_io, need_batch, register, target_names

_NEEDS = "a batch of training inputs (x, y) to measure pre/post activity, e.g. 256"


@register("hebbian", needs=_NEEDS, paper="Hebb 1949; seed slide 9F: |corr(pre_j, post_i)|")
def hebbian(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """``|corr(a_j, z_i)|`` for every connection ``w_ij``."""
    x, _ = need_batch("hebbian", batch, _NEEDS)
    names = target_names(model, names)
    io = layer_io(model, names, x, "hebbian", outputs=True)
    params = dict(model.named_parameters())
    out = {}
    for n in names:
        a, z = (t.to(torch.float64) for t in io[n])
        a = a - a.mean(0)
        z = z - z.mean(0)
        cov = z.T @ a / a.shape[0]  # (out, N) @ (N, fan_in) -> (out, fan_in)
        sa, sz = a.pow(2).mean(0).sqrt(), z.pow(2).mean(0).sqrt()
        denom = sz[:, None] * sa[None, :]
        corr = torch.where(denom > 0, cov / denom.clamp_min(1e-300), torch.zeros_like(cov))
        out[n] = corr.abs().reshape(params[n].shape).to(params[n].dtype)
    return out
