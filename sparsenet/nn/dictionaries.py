"""Fixed dictionaries U (in_features x rank) for `LowRankLinear` (W^T = U V, only V learned).

Denil, Shakibi, Dinh, Ranzato, de Freitas, "Predicting Parameters in Deep Learning", NeurIPS 2013.
A feature detector's weights are smooth over the input space (neighbouring pixels get similar
weights), so a fixed dictionary over the INPUT coordinates predicts them from a few numbers each:
column o of W^T is U v_o. Each builder returns a float64 tensor (in_features, rank).

* ``se``: the paper's kernel ridge regression from a subset alpha of input positions (its §3):
  U = K[:, alpha] (K[alpha, alpha] + ridge I)^-1 with the squared-exponential kernel
  K[a, b] = exp(-|p_a - p_b|^2 / (2 l^2)) over pixel positions p (1-D positions, (H, W) or
  (C, H, W) grids; pixels of different channels are uncorrelated, K = 0). V's row j is then the
  weight value at anchor alpha_j and U interpolates it smoothly to every other position.
  We implement this (not the top eigenvectors of K) because it is the paper's construction.
  Anchors: ``"spread"`` (default; farthest-point sampling from position 0, ties to the lowest
  index: evenly spaced in 1-D and 2-D and over channels), ``"random"`` (seeded) or explicit indices.
  Default length scale: the mean anchor spacing (in_features / rank)^(1/d) pixels (d = 1 or 2).
* ``gaussian``: iid N(0, 1/in_features), seeded.
* ``dct``: the orthonormal DCT-II basis vectors of lowest frequency: cos(pi (n + 1/2) k / N) in
  1-D; products over rows and columns for (H, W), ordered by (k/H)^2 + (l/W)^2, then k, then l;
  for (C, H, W) the same 2-D basis in each channel (then ordered by channel).
* ``pca``: the top-`rank` principal directions (eigenvectors of the sample covariance) of
  ``data`` (N, in_features), each signed so that its largest-magnitude entry is positive.
* ``svd``: the top-`rank` right singular vectors of a trained ``weight`` (out, in);
  `LowRankLinear.from_linear` uses it to factor a dense layer.

A new dictionary is one function registered in `DICTIONARIES`; its keyword-only parameters are
its options (an unknown option is a one-line error listing them).
"""
from __future__ import annotations

import inspect
import math
from typing import Callable, Sequence

import torch

from ..errors import SparsenetError
from ..registry import Registry

DICTIONARIES: Registry[Callable[..., torch.Tensor]] = Registry("dictionary", plural="dictionaries")
_F64 = torch.float64


def input_coordinates(in_features: int, input_shape: Sequence[int] | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel positions (in_features, d) float64 and channel ids (in_features,) in flattening order.

    `input_shape` None or (L,): positions 0..L-1 (d = 1); (H, W): the grid (row, column) (d = 2);
    (C, H, W): the (H, W) grid in each channel, channel-major like `tensor.flatten()`."""
    shape = (in_features,) if input_shape is None else tuple(int(s) for s in input_shape)
    if not 1 <= len(shape) <= 3 or min(shape) <= 0:
        raise SparsenetError(f"input_shape {shape} is not (L,), (H, W) or (C, H, W) with positive sizes")
    if math.prod(shape) != in_features:
        raise SparsenetError(f"input_shape {shape} has {math.prod(shape)} entries but in_features is "
                             f"{in_features}; pass the shape of one input sample")
    channels, spatial = (shape[0], shape[1:]) if len(shape) == 3 else (1, shape)
    grids = torch.meshgrid(*[torch.arange(s, dtype=_F64) for s in spatial], indexing="ij")
    pos = torch.stack([g.reshape(-1) for g in grids], dim=1)  # (H*W, d)
    coords = pos.repeat(channels, 1)
    chan = torch.arange(channels).repeat_interleave(pos.shape[0])
    return coords, chan


def _sq_dist(coords, chan, rows, cols) -> torch.Tensor:
    """|p_a - p_b|^2 for a in rows, b in cols; +inf between channels. (R, d), (C, d) -> (R, C)"""
    d2 = torch.cdist(coords[rows], coords[cols]).square()
    return d2.masked_fill(chan[rows][:, None] != chan[cols][None, :], math.inf)


def se_kernel(input_shape: Sequence[int], lengthscale: float, rows=None, cols=None) -> torch.Tensor:
    """K[rows][:, cols] of the squared-exponential kernel over the positions of `input_shape`.

    K[a, b] = exp(-|p_a - p_b|^2 / (2 lengthscale^2)), 0 across channels; rows/cols index the
    flattened input (default: all)."""
    n = math.prod(input_shape)
    _check_positive("lengthscale", lengthscale)
    coords, chan = input_coordinates(n, input_shape)
    rows = torch.arange(n) if rows is None else torch.as_tensor(rows, dtype=torch.int64)
    cols = torch.arange(n) if cols is None else torch.as_tensor(cols, dtype=torch.int64)
    return torch.exp(-_sq_dist(coords, chan, rows, cols) / (2.0 * lengthscale ** 2))


def spread_anchors(coords: torch.Tensor, chan: torch.Tensor, rank: int) -> torch.Tensor:
    """`rank` positions by farthest-point sampling from position 0 (ties: lowest index), sorted."""
    n = coords.shape[0]
    chosen = [0]
    nearest = _sq_dist(coords, chan, torch.arange(n), torch.tensor([0]))[:, 0]  # (n,) distance to the set
    for _ in range(rank - 1):
        nxt = int(torch.argmax(nearest))  # first maximum on ties
        chosen.append(nxt)
        nearest = torch.minimum(nearest, _sq_dist(coords, chan, torch.arange(n), torch.tensor([nxt]))[:, 0])
    return torch.tensor(sorted(chosen), dtype=torch.int64)


def _check_positive(name: str, value) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 or math.isinf(value):
        raise SparsenetError(f"{name} must be a positive finite number, got {value!r}")


def _anchor_indices(anchors, coords, chan, rank: int, seed: int) -> torch.Tensor:
    n = coords.shape[0]
    if isinstance(anchors, str):
        if anchors == "spread":
            return spread_anchors(coords, chan, rank)
        if anchors == "random":
            g = torch.Generator().manual_seed(seed)
            return torch.randperm(n, generator=g)[:rank].sort().values
        raise SparsenetError(f"unknown anchors {anchors!r}; valid: 'spread', 'random' or a list of {rank} "
                             f"distinct input indices")
    idx = torch.as_tensor(anchors, dtype=torch.int64).reshape(-1)
    if idx.numel() != rank or idx.unique().numel() != rank or int(idx.min()) < 0 or int(idx.max()) >= n:
        raise SparsenetError(f"anchors must be {rank} distinct indices in [0, {n}), got {idx.tolist()}")
    return idx


@DICTIONARIES.register("se")
def se_dictionary(in_features: int, rank: int, *, input_shape: Sequence[int] | None = None,
                  lengthscale: float | None = None, ridge: float = 1e-3, anchors="spread",
                  seed: int = 0) -> torch.Tensor:
    """The paper's kernel ridge regressor U = K[:, alpha] (K[alpha, alpha] + ridge I)^-1 (SE kernel)."""
    coords, chan = input_coordinates(in_features, input_shape)
    if lengthscale is None:
        lengthscale = (in_features / rank) ** (1.0 / coords.shape[1])  # mean anchor spacing, pixels
    _check_positive("lengthscale", lengthscale)
    if not isinstance(ridge, (int, float)) or not 0 <= ridge < math.inf:
        raise SparsenetError(f"ridge must be a finite number >= 0, got {ridge!r}")
    alpha = _anchor_indices(anchors, coords, chan, rank, seed)
    k_all = torch.exp(-_sq_dist(coords, chan, torch.arange(in_features), alpha) / (2.0 * lengthscale ** 2))
    k_aa = k_all[alpha] + ridge * torch.eye(rank, dtype=_F64)  # (r, r)
    # U = K[:, a] (K_aa + ridge I)^-1, solved as (K_aa + ridge I) U^T = K[a, :] (K_aa symmetric)
    return torch.linalg.solve(k_aa, k_all.T).T.contiguous()


@DICTIONARIES.register("gaussian")
def gaussian_dictionary(in_features: int, rank: int, *, seed: int = 0) -> torch.Tensor:
    """iid N(0, 1/in_features) entries from `seed` (the same seed gives the same U)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(in_features, rank, generator=g, dtype=_F64) / math.sqrt(in_features)


def dct_basis(n: int) -> torch.Tensor:
    """Orthonormal DCT-II matrix (n, n): row k is s_k cos(pi (i + 1/2) k / n), s_0 = 1/sqrt(n), else sqrt(2/n)."""
    i = torch.arange(n, dtype=_F64)
    m = torch.cos(math.pi * (i[None, :] + 0.5) * i[:, None] / n) * math.sqrt(2.0 / n)
    m[0] /= math.sqrt(2.0)
    return m


@DICTIONARIES.register("dct")
def dct_dictionary(in_features: int, rank: int, *, input_shape: Sequence[int] | None = None) -> torch.Tensor:
    """The `rank` lowest-frequency DCT-II basis vectors (1-D, or 2-D per channel); orthonormal columns."""
    shape = (in_features,) if input_shape is None else tuple(int(s) for s in input_shape)
    input_coordinates(in_features, shape)  # validates the shape
    if len(shape) == 1:
        return dct_basis(in_features)[:rank].T.contiguous()
    channels, (h, w) = (shape[0], shape[1:]) if len(shape) == 3 else (1, shape)
    order = sorted(((k / h) ** 2 + (l / w) ** 2, k, l, c)
                   for k in range(h) for l in range(w) for c in range(channels))[:rank]
    dh, dw = dct_basis(h), dct_basis(w)
    u = torch.zeros(channels, h * w, rank, dtype=_F64)
    for j, (_, k, l, c) in enumerate(order):
        u[c, :, j] = torch.outer(dh[k], dw[l]).reshape(-1)
    return u.reshape(in_features, rank)


def _sign_fix(u: torch.Tensor) -> torch.Tensor:
    """Sign each column so that its largest-magnitude entry (first on ties) is positive."""
    big = u.abs().argmax(dim=0)
    return u * torch.sign(u[big, torch.arange(u.shape[1])])


@DICTIONARIES.register("pca")
def pca_dictionary(in_features: int, rank: int, *, data: torch.Tensor | None = None) -> torch.Tensor:
    """Top-`rank` eigenvectors of the sample covariance of `data` (N, in_features), descending."""
    if data is None:
        raise SparsenetError("dictionary 'pca' needs data=: a tensor (N, in_features) of sample inputs")
    x = torch.as_tensor(data).detach().to("cpu", _F64)
    x = x.reshape(x.shape[0], -1) if x.dim() >= 2 else x
    if x.dim() != 2 or x.shape[1] != in_features or x.shape[0] < rank + 1:
        raise SparsenetError(f"pca data must be (N, {in_features}) with N >= rank + 1 = {rank + 1}, "
                             f"got {tuple(torch.as_tensor(data).shape)}")
    xc = x - x.mean(dim=0)
    _, vecs = torch.linalg.eigh(xc.T @ xc / (x.shape[0] - 1))  # ascending eigenvalues
    return _sign_fix(vecs.flip(1)[:, :rank]).contiguous()


def truncated_svd(weight: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(P_r (out, r), S_r (r,), Q_r (in, r)) in float64 with weight ~= P_r diag(S_r) Q_r^T."""
    w = torch.as_tensor(weight).detach().to("cpu", _F64)
    if w.dim() != 2:
        raise SparsenetError(f"svd needs a 2-D weight (out, in), got shape {tuple(w.shape)}")
    if not 1 <= rank <= min(w.shape):
        raise SparsenetError(f"rank {rank} is outside [1, min(out, in) = {min(w.shape)}] for a "
                             f"{w.shape[0]}x{w.shape[1]} weight")
    p, s, qh = torch.linalg.svd(w, full_matrices=False)
    return p[:, :rank], s[:rank], qh[:rank].T


@DICTIONARIES.register("svd")
def svd_dictionary(in_features: int, rank: int, *, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Top-`rank` right singular vectors of a trained `weight` (out, in_features)."""
    if weight is None:
        raise SparsenetError("dictionary 'svd' needs weight= (out, in_features), or use "
                             "LowRankLinear.from_linear(linear, rank)")
    if weight.dim() != 2 or weight.shape[1] != in_features:
        raise SparsenetError(f"svd weight must be (out, {in_features}), got {tuple(weight.shape)}")
    return truncated_svd(weight, rank)[2].contiguous()


def build_dictionary(name: str, in_features: int, rank: int, **options) -> torch.Tensor:
    """The dictionary `name` as a float64 tensor (in_features, rank); `options` go to its builder."""
    if name not in DICTIONARIES:  # the registry's own message would say "dictionarys"
        raise SparsenetError(f"unknown dictionary {name!r}; valid dictionaries: {', '.join(DICTIONARIES.names())}")
    builder = DICTIONARIES.get(name)
    accepted = [p.name for p in inspect.signature(builder).parameters.values() if p.kind is p.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise SparsenetError(f"dictionary {name!r} takes no option {unknown[0]!r}; its options: "
                             f"{', '.join(accepted) or 'none'}")
    if not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= in_features:
        raise SparsenetError(f"rank {rank!r} is outside [1, in_features = {in_features}] for dictionary {name!r}")
    u = builder(in_features, rank, **options)
    if u.shape != (in_features, rank) or not bool(torch.isfinite(u).all()):
        raise SparsenetError(f"dictionary {name!r} gave a {tuple(u.shape)} tensor with non-finite entries "
                             f"or the wrong shape; expected ({in_features}, {rank})")
    return u


__all__ = ["DICTIONARIES", "build_dictionary", "dct_basis", "input_coordinates", "se_kernel",
           "spread_anchors", "truncated_svd"]
