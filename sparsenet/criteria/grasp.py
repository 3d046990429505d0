"""GraSP: Wang, Zhang & Grosse, "Picking Winning Tickets Before Training by Preserving Gradient
Flow", ICLR 2020 (arXiv:2002.07376).

Removing weights should not shrink the gradient norm ``gᵀg``. GraSP's score is
S(-θ) = -θ ⊙ H g, and the weights with the *largest* S are removed; so here
score(θ) = θ ⊙ (H g)   (higher = keep), with ``Hg = ∂(gᵀ·stopgrad(g))/∂θ``.
"""
from __future__ import annotations

from torch import nn

from .base import Scores, loss_grads, need_batch, register, target_names
from .hessian import hvp

_NEEDS = "a batch of training examples (x, y), e.g. 256"


@register("grasp", needs=_NEEDS, paper="Wang et al. 2020, arXiv:2002.07376: theta * Hg")
def grasp(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """``θ ⊙ Hg`` at the model's weights."""
    batch = need_batch("grasp", batch, _NEEDS)
    names = target_names(model, names)
    leaves, grads, _ = loss_grads(model, names, batch, loss_fn, create_graph=True)
    hg = hvp(leaves, grads, {n: grads[n].detach() for n in names})
    return {n: leaves[n].detach() * hg[n] for n in names}
