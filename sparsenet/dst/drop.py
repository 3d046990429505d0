"""Which live connections a dynamic sparse method removes at an update.

* ``magnitude`` (RigL, SNFS, and SET's common variant): the ``round(ζ · nnz)`` live weights of
  smallest |w|.
* ``set`` (Mocanu et al. 2018, Algorithm 1 and the authors' SET-MLP code): the fraction ζ of the
  positive weights closest to zero *and* the fraction ζ of the negative weights closest to zero,
  each side counted separately (so the count is ``round(ζ · n₊) + round(ζ · n₋)``); an exact zero
  counts as the smallest positive (it is dropped first).

Ties break toward the lower key (the order of the live values), so the choice depends only on the
weights, not on how the layer is stored.
"""
from __future__ import annotations

import torch

from ..errors import ConfigError

DROP_RULES = ("magnitude", "set")


def _smallest(score: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of the `n` smallest scores, ties by position."""
    if n <= 0:
        return torch.zeros(0, dtype=torch.int64, device=score.device)
    return torch.sort(score, stable=True).indices[:n]


def choose_drop(values: torch.Tensor, zeta: float, rule: str = "magnitude", *, count: int | None = None) -> torch.Tensor:
    """Bool (nnz,) over the live `values`: True = drop. `count` overrides ``round(ζ · nnz)``
    for ``magnitude`` (a method that shrinks a layer to a target size)."""
    if rule not in DROP_RULES:
        raise ConfigError(f"unknown drop rule {rule!r}; valid: {', '.join(DROP_RULES)}")
    v = values.detach()
    drop = torch.zeros(v.numel(), dtype=torch.bool, device=v.device)
    if rule == "magnitude":
        n = round(zeta * v.numel()) if count is None else int(count)
        drop[_smallest(v.abs(), min(n, v.numel()))] = True
        return drop
    pos = (v >= 0).nonzero().squeeze(1)  # an exact 0 counts with the positives, so it goes first
    neg = (v < 0).nonzero().squeeze(1)
    drop[pos[_smallest(v[pos], round(zeta * pos.numel()))]] = True
    drop[neg[_smallest(-v[neg], round(zeta * neg.numel()))]] = True
    return drop


__all__ = ["DROP_RULES", "choose_drop"]
