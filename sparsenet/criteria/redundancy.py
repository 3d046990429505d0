"""Redundant populations: how many units a layer needs, from its activation spectrum.

Seed lecture 8, slide 9 G: compare the eigenvalues of a layer's activation covariance to a
uniform spectrum. Following Principal Filter Analysis (Suau, Zappella & Apostoloff, "Filter
Distillation for Network Compression", WACV 2020, arXiv:1807.10585, the KL-to-uniform variant):
with the covariance eigenvalues ``λ_1 >= ... >= λ_n`` of the layer's outputs (before the
activation; conv: over examples and positions) and ``p = λ / Σλ``,

    KL(p || uniform) = log n - H(p),     units needed  k = ceil(n · exp(-KL)) = ceil(exp(H(p)))

(``exp(H)`` is the effective number of directions: n for a uniform spectrum — no redundancy —
and 1 when one direction carries all the variance). `units_needed` returns k per layer.
The criterion ``redundancy`` scores unit i by the variance it carries in the top-k principal
directions, ``Σ_{c<=k} λ_c V_ic²`` (higher = keep).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .base import Scores, layer_io, need_batch, register, target_names

_NEEDS = "a batch of training inputs (x, y) to measure each layer's activation covariance, e.g. 512"


def _spectrum(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    z = z.to(torch.float64)
    z = z - z.mean(0)
    cov = z.T @ z / max(1, z.shape[0])  # (out, out)
    lam, vec = torch.linalg.eigh(cov)  # ascending
    lam, vec = lam.flip(0).clamp_min(0), vec.flip(1)
    total = float(lam.sum())
    if total <= 0:
        return lam, vec, 1
    p = lam / total
    entropy = -float((p[p > 0] * p[p > 0].log()).sum())
    k = min(lam.numel(), max(1, math.ceil(math.exp(entropy) - 1e-9)))
    return lam, vec, k


def units_needed(model: nn.Module, *, batch, names=None) -> dict[str, int]:
    """``{weight name: k}``: units each layer needs by its spectrum's KL distance to uniform."""
    x, _ = need_batch("redundancy", batch, _NEEDS)
    names = target_names(model, names)
    io = layer_io(model, names, x, "redundancy", outputs=True)
    return {n: _spectrum(io[n][1])[2] for n in names}


@register("redundancy", needs=_NEEDS, granularity="neuron",
          paper="PFA-KL, Suau et al. 2020, arXiv:1807.10585: k = exp(H(eig/sum eig))")
def redundancy(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """Per unit: ``Σ_{c<=k} λ_c V_ic²``, its variance within the layer's k principal directions."""
    x, _ = need_batch("redundancy", batch, _NEEDS)
    names = target_names(model, names)
    io = layer_io(model, names, x, "redundancy", outputs=True)
    params = dict(model.named_parameters())
    out = {}
    for n in names:
        lam, vec, k = _spectrum(io[n][1])
        out[n] = (vec[:, :k] ** 2 * lam[:k]).sum(1).to(params[n].dtype)
    return out
