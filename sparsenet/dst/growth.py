"""Where a dynamic sparse method grows new connections: O(nnz + k) memory, never a dense out×in array.

Keys: a connection's flat index ``row · n_in + col`` (`sparsenet.masks.layers`); live keys ascend.

* `random_inactive` (SET): k keys drawn uniformly without replacement among the inactive ones, by
  rejection (draw, drop the live and repeated ones, repeat) while the layer is mostly empty; by
  enumerating the complement when more than a quarter of it is live. Memory O(nnz + k).
* `topk_inactive_product` (RigL, SNFS): the k inactive keys with the largest |G| where
  ``G = Aᵀ X`` is the (out × n_in) gradient of the loss w.r.t. the dense weight — for a linear
  layer y = x Wᵀ + b on a batch, ``∂L/∂W = dYᵀ X`` with dY (B × out) the output gradients and X
  (B × n_in) the inputs. G is computed one block of rows at a time (`tile` entries, default 2²²),
  the live entries of the block masked out, and a running top-k kept, so memory is
  O(tile + k) and time one B·out·n_in product per update (the same as one dense weight
  gradient, paid every ΔT steps instead of every step). For SNFS, A and X stack a window of
  batches weighted by the momentum factor, which gives the momentum of the inactive connections
  (``Σ_j β^(t-j) g_j``) without a dense momentum buffer.
* `topk_inactive_dense`: the same choice from a dense score (masked execution of conv layers).

Ties break toward the lower key, so the choice depends only on the scores.
"""
from __future__ import annotations

import torch

TILE = 1 << 22  # entries of G computed at once (16 MiB of float32)


def _is_live(keys: torch.Tensor, live: torch.Tensor) -> torch.Tensor:
    if live.numel() == 0:
        return torch.zeros_like(keys, dtype=torch.bool)
    pos = torch.searchsorted(live, keys).clamp(max=live.numel() - 1)
    return live[pos] == keys


def n_inactive(size: int, live: torch.Tensor) -> int:
    return size - live.numel()


def random_inactive(size: int, live: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """`k` distinct keys in [0, size) not in `live` (sorted int64), uniformly at random; ascending."""
    k = min(int(k), n_inactive(size, live))
    if k <= 0:
        return torch.zeros(0, dtype=torch.int64)
    live = live.cpu()
    if live.numel() > size // 4:  # dense-ish: enumerate the complement (O(size), small here)
        free = torch.ones(size, dtype=torch.bool)
        free[live] = False
        pool = free.nonzero().squeeze(1)
        return pool[torch.randperm(pool.numel(), generator=generator)[:k]].sort().values
    got = torch.zeros(0, dtype=torch.int64)
    while got.numel() < k:
        draw = torch.randint(0, size, (2 * (k - got.numel()) + 16,), generator=generator)
        draw = draw[~_is_live(draw, live)]
        got = torch.unique(torch.cat([got, draw]))
    if got.numel() > k:
        got = got[torch.randperm(got.numel(), generator=generator)[:k]]
    return got.sort().values


def _top(values: torch.Tensor, keys: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest `values` (ties: lower key first) and their keys.

    On a large array the candidates are first cut to the entries at or above a threshold read off
    an evenly strided sample (a value that about 1.5 k entries exceed); when at least k entries pass,
    they contain the exact top k, which is then taken among them (else the whole array is used)."""
    if values.numel() <= k:
        return values, keys
    n = values.numel()
    if n > 1 << 16 and 2 * k < n:
        sample = values[:: max(1, n // (1 << 16))]
        rank = int(sample.numel() * (1 - 1.5 * k / n))
        if 1 <= rank < sample.numel():
            t = sample.kthvalue(rank).values
            cand = (values >= t).nonzero().squeeze(1)
            if cand.numel() >= k:
                values, keys = values[cand], keys[cand]
    thr = torch.topk(values, k, sorted=False).values.min()
    above = values > thr
    n_eq = k - int(above.sum())
    eq = (values == thr).nonzero().squeeze(1)
    if keys.numel() > 1 and bool((keys[1:] < keys[:-1]).any()):
        eq = eq[torch.argsort(keys[eq])]
    pick = torch.cat([above.nonzero().squeeze(1), eq[:n_eq]])
    return values[pick], keys[pick]


@torch.no_grad()
def topk_inactive_product(A: torch.Tensor, X: torch.Tensor, live: torch.Tensor, k: int, *,
                          tile: int = TILE) -> torch.Tensor:
    """The `k` inactive keys of the largest |(Aᵀ X)[r, c]| (A: (B, out), X: (B, n_in)); ascending."""
    out_f, n_in = A.shape[1], X.shape[1]
    k = min(int(k), n_inactive(out_f * n_in, live))
    if k <= 0:
        return torch.zeros(0, dtype=torch.int64)
    live = live.to(A.device)
    rows = max(1, int(tile) // max(1, n_in))
    best_v = torch.zeros(0, dtype=A.dtype, device=A.device)
    best_k = torch.zeros(0, dtype=torch.int64, device=A.device)
    At = A.t()
    for r0 in range(0, out_f, rows):
        r1 = min(out_f, r0 + rows)
        s = (At[r0:r1] @ X).abs_().reshape(-1)
        lo, hi = (int(i) for i in torch.searchsorted(live, torch.tensor([r0 * n_in, r1 * n_in], device=live.device)))
        s[live[lo:hi] - r0 * n_in] = -1.0  # live: never chosen (|G| >= 0 elsewhere)
        if best_v.numel() == k:  # only entries that can enter the running top-k (ties included)
            i = (s >= best_v.min()).nonzero().squeeze(1)
            v = s[i]
        else:
            v, i = _top(s, torch.arange(s.numel(), device=s.device), k)
        best_v, best_k = _top(torch.cat([best_v, v]), torch.cat([best_k, i + r0 * n_in]), k)
    return best_k.sort().values.cpu()


@torch.no_grad()
def topk_inactive_dense(score: torch.Tensor, live: torch.Tensor, k: int) -> torch.Tensor:
    """The `k` inactive keys of the largest |score| (any shape, flattened); ascending."""
    s = score.detach().abs().reshape(-1).clone()
    k = min(int(k), n_inactive(s.numel(), live))
    if k <= 0:
        return torch.zeros(0, dtype=torch.int64)
    s[live.to(s.device)] = -1.0
    _, keys = _top(s, torch.arange(s.numel(), device=s.device), k)
    return keys.sort().values.cpu()


__all__ = ["TILE", "random_inactive", "topk_inactive_dense", "topk_inactive_product"]
