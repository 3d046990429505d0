"""Empirical Fisher pruning: Theis, Korshunova, Tejani & Huszár, "Faster gaze prediction with
dense networks and Fisher pruning", 2018 (arXiv:1801.05787).

The loss increase from deleting ``w_i`` is approximated with the empirical Fisher information in
place of the Hessian:  F_ii = (1/N) Σ_n (∂L_n/∂w_i)²,   score(w_i) = ½ · F_ii · w_i²,
with per-example gradients ``∂L_n/∂w`` (computed with `torch.func.vmap`).
"""
from __future__ import annotations

from torch import nn

from .base import Scores, loss_or_default, need_batch, per_sample_square_grads, register, target_names

_NEEDS = "a batch of training examples (x, y) for per-example gradients, e.g. 256"


@register("fisher", needs=_NEEDS, paper="Theis et al. 2018, arXiv:1801.05787: 1/2 F_ii w_i^2")
def fisher(model: nn.Module, *, batch=None, loss_fn=None, names=None, chunk: int = 32) -> Scores:
    """``½ F_ii w_i²`` with the empirical diagonal Fisher over `batch`."""
    x, y = need_batch("fisher", batch, _NEEDS)
    names = target_names(model, names)
    loss = loss_or_default(loss_fn)
    sq = per_sample_square_grads(model, names, (x, y), lambda out, t: loss(out, t), chunk=chunk)
    params = dict(model.named_parameters())
    return {n: 0.5 * (sq[n] / x.shape[0]) * params[n].detach() ** 2 for n in names}
