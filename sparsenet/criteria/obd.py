"""Optimal Brain Damage: LeCun, Denker & Solla, "Optimal Brain Damage", NIPS 2 (1990).

At a minimum (gradient ≈ 0) and with a diagonal Hessian, deleting weight ``w_i`` raises the loss by
the saliency   s_i = ½ · H_ii · w_i²   (higher = keep).

``method`` picks the diagonal (see `sparsenet.criteria.hessian`): ``"gauss-newton"`` (default,
exact GGN diagonal for softmax cross-entropy, never negative), ``"hutchinson"`` (stochastic, uses
Hessian-vector products, any loss) or ``"exact"`` (true Hessian diagonal, tiny nets only —
"OBD from the exact Hessian").
"""
from __future__ import annotations

from torch import nn

from .base import Scores, need_batch, register, target_names
from .hessian import hessian_diagonal

_NEEDS = "a batch of training examples (x, y) to estimate the Hessian diagonal, e.g. 256"


@register("obd", needs=_NEEDS, paper="LeCun et al. 1990 (NIPS 2): 1/2 H_ii w_i^2")
def obd(model: nn.Module, *, batch=None, loss_fn=None, names=None, method: str = "gauss-newton",
        samples: int = 32, seed: int = 0) -> Scores:
    """``½ H_ii w_i²`` for every named weight."""
    batch = need_batch("obd", batch, _NEEDS)
    names = target_names(model, names)
    params = dict(model.named_parameters())
    h = hessian_diagonal(model, names, batch, loss_fn, method=method, samples=samples, seed=seed)
    return {n: 0.5 * h[n] * params[n].detach() ** 2 for n in names}
