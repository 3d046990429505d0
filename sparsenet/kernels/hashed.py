"""The hashing trick's index and sign, computed on the fly, and the three products of a hashed layer.

Hash (fixed; changing it changes every saved HashedLinear, so it carries a version, `HASH_VERSION`).
A virtual (out, in) matrix V has positions n = i * in + j. Every position draws one 64-bit number,
the (n + 1)-th output of a SplitMix64 stream (Steele, Lea & Flood 2014) seeded with the layer seed:

    z(n) = mix(seed + (n + 1) * G)                       (arithmetic mod 2**64)
    mix(z): z = (z ^ (z >> 30)) * M1;  z = (z ^ (z >> 27)) * M2;  return z ^ (z >> 31)
    G = 0x9E3779B97F4A7C15, M1 = 0xBF58476D1CE4E5B9, M2 = 0x94D049BB133111EB

    bucket  h(i, j) = (((z >> 31) & 0xFFFFFFFF) * K) >> 32      in [0, K)   (Lemire's multiply-shift)
    sign    xi(i, j) = -1 if z >> 63 else +1

The sign is the top bit and the bucket the 32 bits below it, so they are independent; the
multiply-shift avoids a 64-bit division per weight and needs K <= 2**32. With seed 0 the first three
outputs are SplitMix64's published ones, 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F
(a test checks them). A hashed bias uses the positions n = out * in + i that follow the weight's.

Products (activations feature-major, (features, B), as in `sparsenet.kernels.backends`):

    forward  Y^T  = V X^T (+ b)                    (out, in) @ (in, B)  -> (out, B)   parallel over rows i
    dX       dX^T = V^T G^T                        (in, out) @ (out, B) -> (in, B)    parallel over columns j
    dw       dw[k] = sum_{h(i,j)=k} xi(i,j) <G^T[i], X^T[j]>                          (K,)

dw never forms G^T X: each thread takes a block of rows, computes one dot product per (i, j) and adds
it into its own buffer of K partial sums (no races); block 0's buffer is the gradient itself and
the other T - 1 are added into it at the end (one block below `PARALLEL_MIN_PAIRS` multiply-adds).
Memory: O(K * threads + activations).
The torch functions at the bottom compute the same hash with int64 tensor ops (the reference path
and `HashedLinear.to_linear()`); they do build (rows, in) index tensors and are for checking only.
"""
from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

HASH_VERSION = 1
G, M1, M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
MAX_BUCKETS = 1 << 32
_MASK64 = (1 << 64) - 1

_G, _M1, _M2 = np.uint64(G), np.uint64(M1), np.uint64(M2)
_LOW32 = np.uint64(0xFFFFFFFF)


# ---- the hash in plain Python (one position at a time; documentation and tests) -----------------
def splitmix64(seed: int, n: int) -> int:
    """z(n): the (n + 1)-th output of SplitMix64 seeded with `seed`, as a Python int in [0, 2**64)."""
    z = (seed + (n + 1) * G) & _MASK64
    z = ((z ^ (z >> 30)) * M1) & _MASK64
    z = ((z ^ (z >> 27)) * M2) & _MASK64
    return z ^ (z >> 31)


def bucket_and_sign(z: int, buckets: int) -> tuple[int, int]:
    """(h, xi) of one 64-bit hash value z for K = `buckets`."""
    return (((z >> 31) & 0xFFFFFFFF) * buckets) >> 32, (-1 if z >> 63 else 1)


# ---- numba kernels -----------------------------------------------------------------------------
@njit(inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def _bucket(z, K):
    return ((z >> np.uint64(31)) & _LOW32) * K >> np.uint64(32)


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def hashed_forward(w, xt, bias, has_bias, seed, out, zero):
    # out (n_out, B) = V (n_out, n_in) @ xt (n_in, B) + bias; V[i, j] = xi * w[h] hashed on the fly
    n_out, B = out.shape
    n_in = xt.shape[0]
    K = np.uint64(w.size)
    for i in prange(n_out):
        acc = out[i]
        init = bias[i] if has_bias else zero
        for b in range(B):
            acc[b] = init
        state = np.uint64(seed) + np.uint64(i * n_in + 1) * _G
        for j in range(n_in):
            z = _mix(state)
            state += _G
            v = w[_bucket(z, K)]
            v = -v if (z >> np.uint64(63)) else v
            x = xt[j]
            for b in range(B):
                acc[b] += v * x[b]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def hashed_input_grad(w, gt, n_in, seed, out, zero):
    # out (n_in, B) = V^T (n_in, n_out) @ gt (n_out, B); column j of V steps by n_in positions
    n_out, B = gt.shape
    K = np.uint64(w.size)
    stride = np.uint64(n_in) * _G
    for j in prange(n_in):
        acc = out[j]
        for b in range(B):
            acc[b] = zero
        state = np.uint64(seed) + np.uint64(j + 1) * _G
        for i in range(n_out):
            z = _mix(state)
            state += stride
            v = w[_bucket(z, K)]
            v = -v if (z >> np.uint64(63)) else v
            g = gt[i]
            for b in range(B):
                acc[b] += v * g[b]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def hashed_weight_grad(gt, xt, seed, out, part, zero):
    # out (K,) and part (T - 1, K) zeroed; block t of rows adds xi(i,j) * <gt[i], xt[j]> at h(i,j)
    # into its own buffer (block 0 into out itself), so no two threads write the same numbers
    n_out, B = gt.shape
    n_in = xt.shape[0]
    T = part.shape[0] + 1
    K = np.uint64(out.size)
    per = (n_out + T - 1) // T
    for t in prange(T):
        buf = out if t == 0 else part[t - 1]
        for i in range(t * per, min(n_out, (t + 1) * per)):
            g = gt[i]
            state = np.uint64(seed) + np.uint64(i * n_in + 1) * _G
            for j in range(n_in):
                z = _mix(state)
                state += _G
                x = xt[j]
                s = zero
                for b in range(B):
                    s += g[b] * x[b]
                buf[_bucket(z, K)] += -s if (z >> np.uint64(63)) else s


# Below this many (i, j) pairs the weight gradient uses one buffer (no extra K-sized buffers).
PARALLEL_MIN_PAIRS = 1 << 16


def _threads() -> int:
    import numba

    t = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(t)
    return t


def forward(w: torch.Tensor, xt: torch.Tensor, bias: torch.Tensor | None, n_out: int, seed: int) -> torch.Tensor:
    """(n_out, B) = V @ xt (+ bias) with the numba kernel; w (K,), xt (n_in, B) contiguous, CPU."""
    _threads()
    out = torch.empty(n_out, xt.shape[1], dtype=xt.dtype)
    wn = w.detach().numpy()
    b = bias.detach().contiguous().numpy() if bias is not None else wn[:1]
    hashed_forward(wn, xt.numpy(), b, bias is not None, np.uint64(seed), out.numpy(), wn.dtype.type(0))
    return out


def input_grad(w: torch.Tensor, gt: torch.Tensor, n_in: int, seed: int) -> torch.Tensor:
    """(n_in, B) = V^T @ gt with the numba kernel; gt (n_out, B) contiguous."""
    _threads()
    out = torch.empty(n_in, gt.shape[1], dtype=gt.dtype)
    hashed_input_grad(w.detach().numpy(), gt.numpy(), n_in, np.uint64(seed), out.numpy(), gt.numpy().dtype.type(0))
    return out


def weight_grad(gt: torch.Tensor, xt: torch.Tensor, buckets: int, seed: int) -> torch.Tensor:
    """(K,) bucket gradient with the numba kernel; T threads use T - 1 extra K-sized buffers."""
    n_out, n_in = gt.shape[0], xt.shape[0]
    t = _threads() if n_out * n_in * max(1, gt.shape[1]) >= PARALLEL_MIN_PAIRS else 1
    t = min(t, max(1, n_out))
    out = torch.zeros(buckets, dtype=gt.dtype)
    part = torch.zeros(t - 1, buckets, dtype=gt.dtype)
    hashed_weight_grad(gt.numpy(), xt.numpy(), np.uint64(seed), out.numpy(), part.numpy(), gt.numpy().dtype.type(0))
    for p in part:
        out += p
    return out


# ---- the same hash with torch int64 ops (reference path, to_linear) ----------------------------
def _signed(c: int) -> int:
    return c - (1 << 64) if c >> 63 else c


def _srl(z: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of int64 read as uint64 (torch's >> is arithmetic)."""
    return (z >> s) & ((1 << (64 - s)) - 1)


def hash_positions(n: torch.Tensor, seed: int, buckets: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(h, xi) for int64 positions `n`; int64 multiplication wraps mod 2**64 like uint64."""
    z = (n + 1) * _signed(G) + _signed(seed)
    z = (z ^ _srl(z, 30)) * _signed(M1)
    z = (z ^ _srl(z, 27)) * _signed(M2)
    z = z ^ _srl(z, 31)
    h = _srl((_srl(z, 31) & 0xFFFFFFFF) * buckets, 32)
    return h, torch.where(z < 0, -1, 1).to(torch.int8)


def virtual_rows(w: torch.Tensor, seed: int, n_in: int, rows: range) -> torch.Tensor:
    """Rows `rows` of V as a dense (len(rows), n_in) tensor, differentiable in w (torch ops)."""
    i = torch.arange(rows.start, rows.stop, device=w.device, dtype=torch.int64)
    n = i[:, None] * n_in + torch.arange(n_in, device=w.device, dtype=torch.int64)
    h, xi = hash_positions(n, seed, w.numel())
    return w[h] * xi.to(w.dtype)
