"""Data-free criteria: weight magnitude and random scores.

Magnitude: Han, Pool, Tran & Dally, "Learning both Weights and Connections for Efficient Neural
Networks", NIPS 2015 (arXiv:1506.02626): keep the largest ``|w|``.  score(w) = |w|

Random: the baseline every criterion must beat (e.g. Liu et al., "Rethinking the Value of Network
Pruning", ICLR 2019, arXiv:1810.05270): score(w) ~ U[0, 1), i.i.d., from a generator seeded with
`seed`, so the same seed gives the same scores (the global torch RNG is not touched).
"""
from __future__ import annotations

import torch
from torch import nn

from .base import Scores, register, target_names


@register("magnitude", needs=None, paper="Han et al. 2015, arXiv:1506.02626: |w|")
def magnitude(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """``|w|`` for every prunable weight (`batch` and `loss_fn` are ignored)."""
    params = dict(model.named_parameters())
    return {n: params[n].detach().abs().clone() for n in target_names(model, names)}


def _uniform(wi, wf, g):  # the ticket form: same draws, in the same order of names, as below
    return torch.rand(wf.shape, generator=g)


@register("random", needs=None, paper="random baseline (Liu et al. 2019, arXiv:1810.05270): U[0,1)",
          families=("model", "ticket"), rule=_uniform)
def random(model: nn.Module, *, batch=None, loss_fn=None, names=None, seed: int = 0) -> Scores:
    """Uniform random scores, deterministic in `seed`."""
    params = dict(model.named_parameters())
    g = torch.Generator().manual_seed(int(seed))
    return {n: torch.rand(params[n].shape, generator=g).to(params[n].device)
            for n in target_names(model, names)}
