"""Strong tickets: weight pruning vs neuron pruning of the same random network at equal size.

Malach, Yehudai, Shalev-Shwartz & Shamir, "Proving the Lottery Ticket Hypothesis: Pruning is All
You Need", ICML 2020, arXiv:2002.00585: a random ReLU net of depth 2L and polynomial width
contains, by weight pruning alone, a subnetwork approximating any target net of depth L; neuron
pruning of a random net is only as strong as a random-features model — weight pruning is
strictly stronger. Measured here with edge-popup scores (`sparsenet.lottery.edge_popup`): for a
weight-pruned net keeping k% of the weights, the neuron-pruned net keeps the fraction q of each
hidden layer's units with the same count of effective weights,

    Σ_l q_{l-1} q_l n_{l-1} n_l  =  k/100 · Σ_l n_{l-1} n_l,     q_0 = q_L = 1, q_l = q otherwise,

solved for q by bisection.

The approximation demo follows the theorem's setting: a small trained target f* of depth L is
approximated by pruning (edge-popup scores, soft targets softmax(f*)) a random ReLU net of depth
2L and width n, reporting KL(f* || f) on held-out inputs as n grows.
"""
from __future__ import annotations

import torch
from torch import nn

from .edge_popup import check_k


def neuron_fraction_for(sizes: list[int], k: float) -> float:
    """The hidden-unit fraction q whose neuron-pruned net has k% of the weights (in (0, 1])."""
    frac = check_k(k) / 100.0
    target = frac * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))

    def params(q: float) -> float:
        qs = [1.0] + [q] * (len(sizes) - 2) + [1.0]
        return sum(qa * qb * a * b for qa, qb, a, b in zip(qs[:-1], qs[1:], sizes[:-1], sizes[1:]))

    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if params(mid) < target else (lo, mid)
    return hi


# ------------------------------------------------------------------ approximation by pruning

@torch.no_grad()
def soft_targets(model: nn.Module, X: torch.Tensor, batch: int = 2000) -> torch.Tensor:
    """softmax(model(X)) in batches: the target distribution to approximate."""
    model.eval()
    return torch.cat([torch.softmax(model(X[i:i + batch]), dim=1) for i in range(0, X.shape[0], batch)])


@torch.no_grad()
def approximation_error(model: nn.Module, target_probs: torch.Tensor, X: torch.Tensor, batch: int = 2000) -> dict:
    """How far softmax(model(X)) is from `target_probs`: mean KL(p* || p), mean total variation
    ½‖p* − p‖₁, and the fraction of inputs where the argmax agrees."""
    model.eval()
    kl = tv = agree = 0.0
    for i in range(0, X.shape[0], batch):
        logp = torch.log_softmax(model(X[i:i + batch]), dim=1)
        q = target_probs[i:i + batch]
        kl += float((q * (torch.log(q.clamp_min(1e-12)) - logp)).sum())
        tv += float(0.5 * (q - logp.exp()).abs().sum())
        agree += float((q.argmax(1) == logp.argmax(1)).sum())
    n = max(1, X.shape[0])
    return {"kl": kl / n, "tv": tv / n, "agreement": agree / n}


__all__ = ["approximation_error", "neuron_fraction_for", "soft_targets"]
