"""Erdős–Rényi sparsity patterns drawn directly in CSR form, never allocating the dense matrix.

Every entry of an (out, in) matrix is kept independently with probability `density`. Drawn as:
per-row counts c_r ~ Binomial(in, density), then a uniform c_r-subset of columns per row.

- density <= 0.25: columns are drawn with replacement for all rows at once, duplicates dropped,
  and the missing ones redrawn until every row has its count. Conditioned on its size, the set
  of distinct values among iid uniform draws is a uniform subset, and extending it by rejection
  keeps it uniform. Time and memory O(nnz) (expected few rounds: duplicates ~ c_r^2 / 2in).
- denser: Bernoulli draws over blocks of rows of at most 2^22 entries. Time O(out*in), memory
  O(nnz + 2^22); at such densities the CSR is the same order as the dense matrix anyway.
"""
from __future__ import annotations

import torch

from ..errors import SparsenetError

_BLOCK = 1 << 22


def erdos_renyi_csr(out_features: int, in_features: int, density: float, *,
                    generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(crow int64 (out+1), col int32 (nnz)) of a random pattern, columns ascending in each row."""
    if not isinstance(density, (int, float)) or not 0 < density <= 1:
        raise SparsenetError(f"density {density!r} must be in (0, 1]; it is the fraction of weights kept")
    for what, n in (("in_features", in_features), ("out_features", out_features)):
        if not isinstance(n, int) or n < 1:
            raise SparsenetError(f"{what} {n!r} must be a positive integer")
    g = generator
    if density > 0.25:
        rows, cols = [], []
        step = max(1, _BLOCK // in_features)
        for r0 in range(0, out_features, step):
            r1 = min(out_features, r0 + step)
            r, c = (torch.rand(r1 - r0, in_features, generator=g) < density).nonzero(as_tuple=True)
            rows.append(r + r0)
            cols.append(c)
        row, col = torch.cat(rows), torch.cat(cols)
        counts = torch.bincount(row, minlength=out_features)
    else:
        counts = torch.binomial(torch.full((out_features,), float(in_features)),
                                torch.full((out_features,), float(density)), generator=g).long()
        keys = torch.zeros(0, dtype=torch.int64)
        need = counts
        while int(need.sum()):
            r = torch.repeat_interleave(torch.arange(out_features), need)
            c = torch.randint(0, in_features, (r.numel(),), generator=g)
            keys = torch.unique(torch.cat([keys, r * in_features + c]))  # sorted: row-major order
            need = counts - torch.bincount(keys // in_features, minlength=out_features)
            if int(need.min()) < 0:  # more distinct draws than needed in some rows: drop the excess
                keys = _trim(keys, counts, in_features, g)
                need = counts - torch.bincount(keys // in_features, minlength=out_features)
        col = keys % in_features
    crow = torch.zeros(out_features + 1, dtype=torch.int64)
    crow[1:] = torch.cumsum(counts, 0)
    return crow, col.to(torch.int32)


def _trim(keys: torch.Tensor, counts: torch.Tensor, in_features: int, g) -> torch.Tensor:
    # Keep a uniform random `counts[r]`-subset of each row's distinct keys.
    row = keys // in_features
    order = torch.argsort(torch.rand(keys.numel(), generator=g))
    order = order[torch.sort(row[order], stable=True).indices]  # random order within each row
    start = torch.zeros_like(counts)
    have = torch.bincount(row, minlength=counts.numel())
    start[1:] = torch.cumsum(have, 0)[:-1]
    rank = torch.arange(keys.numel()) - start[row[order]]
    kept = order[rank < counts[row[order]]]
    return torch.sort(keys[kept]).values
