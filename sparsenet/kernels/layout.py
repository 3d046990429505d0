"""Activation layouts: the kernels want feature-major (features, B); users hand over (B, features).

`feature_major(x)` returns x's transpose as a contiguous (features, B) tensor. When x is already
a transposed view of such a tensor (what SparseLinear returns), it costs nothing; otherwise the
copy is a blocked transpose parallel over tiles of 64 x 64 numbers (each tile is read row by row
and written column by column inside L1), which on 2 cores runs several times faster than
torch's ``x.t().contiguous()`` for the sizes of a data batch. Small copies stay with torch:
waking the thread pool costs more than they do.
"""
from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

BLOCK = 64
# below this many numbers torch's copy wins (no pool to wake)
PARALLEL_MIN = 1 << 15


@njit(parallel=True, cache=True)
def _transpose_blocked(src, dst):
    rows, cols = src.shape  # dst is (cols, rows)
    nb_r = (rows + BLOCK - 1) // BLOCK
    nb_c = (cols + BLOCK - 1) // BLOCK
    for t in prange(nb_r * nb_c):
        r0 = (t // nb_c) * BLOCK
        c0 = (t % nb_c) * BLOCK
        r1 = min(r0 + BLOCK, rows)
        c1 = min(c0 + BLOCK, cols)
        for c in range(c0, c1):
            for r in range(r0, r1):
                dst[c, r] = src[r, c]


def transposed(x: torch.Tensor) -> torch.Tensor:
    """A contiguous copy of x.t() for a 2-D contiguous CPU float tensor x (any size)."""
    if x.numel() < PARALLEL_MIN or x.dtype not in (torch.float32, torch.float64) or x.device.type != "cpu":
        return x.t().contiguous()
    import numba

    from .backends import pool_threads

    threads = pool_threads()
    if threads == 1:
        return x.t().contiguous()
    numba.set_num_threads(threads)
    out = torch.empty(x.shape[1], x.shape[0], dtype=x.dtype)
    _transpose_blocked(x.detach().numpy(), out.numpy())
    return out


def feature_major(x: torch.Tensor) -> torch.Tensor:
    """(B, F) -> contiguous (F, B): free for a transposed view, a parallel blocked copy otherwise."""
    xt = x.t()
    if xt.is_contiguous():
        return xt
    return transposed(x if x.is_contiguous() else x.contiguous())


def warm() -> None:
    """Compile (or load from numba's cache) the transpose once."""
    a = np.zeros((2, 3), np.float32)
    _transpose_blocked(a, np.zeros((3, 2), np.float32))


__all__ = ["feature_major", "transposed", "warm", "BLOCK"]
