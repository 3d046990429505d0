"""Label noise for sparse double descent.

He, Xie, Zhu, Wang & Wang, "Sparse Double Descent: Where Network Pruning Aggravates Overfitting",
ICML 2022 (arXiv:2206.08684): with noisy training labels, test accuracy against sparsity first
falls, then rises, then falls again. The sweep is an IMP run (`sparsenet lottery`) on labels
where a fraction ρ were replaced:

    y'_i = u_i  with probability ρ (u_i uniform over the classes, may equal y_i), else y_i.

The accuracy-vs-sparsity curve of the tickets is the sweep; the report plots it.
"""
from __future__ import annotations

import torch


def noisy_labels(y: torch.Tensor, num_classes: int, fraction: float, seed: int = 0) -> torch.Tensor:
    """A copy of `y` with ``round(fraction * n)`` entries (chosen at random) set to random labels.

    >>> y = torch.zeros(10, dtype=torch.long)
    >>> int((noisy_labels(y, 10, 0.0) != y).sum())
    0
    """
    g = torch.Generator().manual_seed(seed)
    n = y.numel()
    k = int(round(fraction * n))
    out = y.clone()
    pick = torch.randperm(n, generator=g)[:k]
    out[pick] = torch.randint(num_classes, (k,), generator=g)
    return out


__all__ = ["noisy_labels"]
