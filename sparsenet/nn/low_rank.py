"""LowRankLinear: y = x W^T + b with W^T = U V, U a fixed dictionary, only V (and b) learned.

Denil, Shakibi, Dinh, Ranzato, de Freitas, "Predicting Parameters in Deep Learning", NeurIPS 2013
(arXiv:1306.0543). U (in_features, rank) is a dictionary over the input coordinates (a buffer,
never trained; see `sparsenet.nn.dictionaries`), V (rank, out_features) is learned: output unit o's
weight vector is predicted as W[o, :] = (U V[:, o])^T, a combination of `rank` dictionary columns.
The layer computes (x U) V + b and never forms W: O(B in rank + B rank out) per batch.

Fraction of parameters predicted (the paper's measure): 1 - learned / (in out), where learned
counts V (rank out), plus U (in rank) when U is trained (``freeze_u=False``). The bias is counted
on neither side (it is the same in the dense layer). U is stored in `state_dict` although it could
be rebuilt from its dictionary's options, so a loaded layer reproduces its outputs exactly.

Not a layer of the sparse-layer protocol (`sparsenet.masks.layers`): it has no per-connection
weight and no mask. Every W[o, i] is a product of U and V, so "prune connection (o, i)" has no
meaning for it; its compression is the rank, not a pattern.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SparsenetError
from .dictionaries import build_dictionary, truncated_svd


def _check_size(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise SparsenetError(f"{name} must be a positive integer, got {value!r}")


class LowRankLinear(nn.Module):
    """y = (x U) V + b with U (in, rank) a fixed dictionary and V (rank, out) learned.

    `dictionary` names a builder of `sparsenet.nn.dictionaries.DICTIONARIES` ("se", "gaussian",
    "dct", "pca", "svd") or is a tensor (in_features, rank) used as is; `**dictionary_options`
    go to the builder (e.g. input_shape=(28, 28), lengthscale=, ridge=, anchors=, seed=, data=).
    ``freeze_u=False`` trains U too (then U is an nn.Parameter under the same state_dict key).

    >>> layer = LowRankLinear(784, 300, 64, dictionary="se", input_shape=(28, 28))
    >>> layer(torch.zeros(2, 784)).shape
    torch.Size([2, 300])
    >>> round(layer.fraction_predicted, 4)
    0.9184
    """

    def __init__(self, in_features: int, out_features: int, rank: int, *, dictionary="se",
                 bias: bool = True, freeze_u: bool = True, device=None, dtype=None, **dictionary_options):
        super().__init__()
        _check_size("in_features", in_features)
        _check_size("out_features", out_features)
        _check_size("rank", rank)
        if rank > in_features:
            raise SparsenetError(f"rank {rank} is larger than in_features = {in_features}; a dictionary "
                                 f"has at most in_features independent columns")
        if isinstance(dictionary, torch.Tensor):
            if dictionary_options:
                raise SparsenetError(f"options {sorted(dictionary_options)} need a dictionary name, "
                                     f"not a tensor dictionary")
            if dictionary.shape != (in_features, rank):
                raise SparsenetError(f"a tensor dictionary must be ({in_features}, {rank}), "
                                     f"got {tuple(dictionary.shape)}")
            u, name = dictionary.detach().clone(), "custom"
        elif isinstance(dictionary, str):
            u, name = build_dictionary(dictionary, in_features, rank, **dictionary_options), dictionary
        else:
            raise SparsenetError(f"dictionary must be a name or a tensor ({in_features}, {rank}), "
                                 f"got {type(dictionary).__name__}")
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.dictionary = name
        dtype = dtype or torch.get_default_dtype()
        u = u.to(device=device, dtype=dtype).contiguous()
        if freeze_u:
            self.register_buffer("U", u)
        else:
            self.U = nn.Parameter(u)
        self.V = nn.Parameter(torch.empty(rank, out_features, device=device, dtype=dtype))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """V ~ U(-1/|U|_F, 1/|U|_F), b ~ U(-1/sqrt(in), 1/sqrt(in)).

        For unit-variance inputs E|x U|^2 = |U|_F^2, so Var(y) = in / (3 in) = 1/3 as for
        nn.Linear's default init, whatever the dictionary's scale."""
        with torch.no_grad():
            bound = 1.0 / max(float(torch.linalg.matrix_norm(self.U)), 1e-12)
            self.V.uniform_(-bound, bound)
            if self.bias is not None:
                b = 1.0 / math.sqrt(self.in_features)
                self.bias.uniform_(-b, b)

    @classmethod
    def from_linear(cls, linear: nn.Linear, rank: int, *, freeze_u: bool = True) -> "LowRankLinear":
        """The rank-`rank` truncated SVD of a dense layer: W ~= P_r diag(S_r) Q_r^T.

        U = Q_r (the right singular vectors, over the inputs), V = diag(S_r) P_r^T, so
        (U V)^T = P_r diag(S_r) Q_r^T, the best rank-r approximation (Eckart-Young: the squared
        Frobenius error is the sum of the discarded squared singular values). `freeze_u=False`
        learns both factors afterwards."""
        if not isinstance(linear, nn.Linear):
            raise SparsenetError(f"from_linear needs an nn.Linear, got {type(linear).__name__}")
        w = linear.weight.detach()
        out_f, in_f = w.shape
        _check_size("rank", rank)
        p, s, q = truncated_svd(w, rank)  # float64; rank checked against min(out, in)
        layer = cls(in_f, out_f, rank, dictionary=q, bias=linear.bias is not None, freeze_u=freeze_u,
                    device=w.device, dtype=w.dtype)
        layer.dictionary = "svd"
        with torch.no_grad():
            layer.V.copy_((s[:, None] * p.T).to(w.dtype))
            if linear.bias is not None:
                layer.bias.copy_(linear.bias)
        return layer

    @property
    def learned_parameters(self) -> int:
        """Weight numbers that train: rank * out, plus in * rank when U trains (bias not counted)."""
        n = self.V.numel()
        return n + (self.U.numel() if isinstance(self.U, nn.Parameter) else 0)

    @property
    def fraction_predicted(self) -> float:
        """1 - learned_parameters / (in * out); negative when the factors outnumber W."""
        return 1.0 - self.learned_parameters / (self.in_features * self.out_features)

    def dense_weight(self) -> torch.Tensor:
        """W = (U V)^T, (out, in), detached."""
        return (self.U @ self.V).T.detach()

    def to_linear(self) -> nn.Linear:
        """An nn.Linear holding W = (U V)^T and the same bias (the dense reference)."""
        lin = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                        device=self.V.device, dtype=self.V.dtype)
        with torch.no_grad():
            lin.weight.copy_(self.dense_weight())
            if self.bias is not None:
                lin.bias.copy_(self.bias)
        return lin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1:] != (self.in_features,):
            raise SparsenetError(f"LowRankLinear expects input (..., {self.in_features}), got {tuple(x.shape)}")
        # (B, in) @ (in, r) -> (B, r); (B, r) @ (r, out) + b -> (B, out)
        return F.linear(x @ self.U, self.V.T, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, rank={self.rank}, "
                f"dictionary={self.dictionary!r}, bias={self.bias is not None}, "
                f"freeze_u={not isinstance(self.U, nn.Parameter)}")


__all__ = ["LowRankLinear"]
