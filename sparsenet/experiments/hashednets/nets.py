"""The three contenders of the equal-storage comparison, each storing the same number of weights.

At compression c, for an MLP in-H-classes (ReLU, dense biases in all three):

* ``hashed``: both layers `HashedLinear` with K1 = round(c * in * H) and K2 = round(c * H * classes)
  buckets, hash seeds different per layer; stored weights S = K1 + K2.
* ``dense``: in-h-classes with the largest h such that (in + classes) * h <= S (the paper's
  "equal-storage" narrower net; it stores at most S weights, short of S by less than in + classes).
* ``sparse``: in-H-classes of `SparseLinear` layers holding exactly K1 and K2 random connections
  (uniform without replacement, so the stored count is S exactly, not a binomial draw as
  `SparseLinear.random` would give).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ...nn import HashedLinear, SparseLinear


class ReluMLP(nn.Module):
    """layers[0] -> ReLU -> layers[1] -> ... (logits)."""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = torch.relu(x)
        return x


def hashed_counts(in_features: int, hidden: int, classes: int, compression: float) -> tuple[int, int]:
    """(K1, K2): the buckets HashedLinear keeps at this compression (its own rounding rule)."""
    return (max(1, round(compression * in_features * hidden)), max(1, round(compression * hidden * classes)))


def dense_width(in_features: int, classes: int, stored: int) -> int:
    """The largest h with (in + classes) * h <= stored (at least 1)."""
    return max(1, stored // (in_features + classes))


def storage(contender: str, in_features: int, hidden: int, classes: int, compression: float) -> dict:
    """Shape, stored weights and biases of one contender (no model built)."""
    k1, k2 = hashed_counts(in_features, hidden, classes, compression)
    width = dense_width(in_features, classes, k1 + k2) if contender == "dense" else hidden
    weights = (in_features + classes) * width if contender == "dense" else k1 + k2
    return {"shape": f"{in_features}-{width}-{classes}", "width": width, "stored_weights": weights,
            "biases": width + classes}


def _random_sparse(in_features: int, out_features: int, nnz: int, g: torch.Generator) -> SparseLinear:
    flat = torch.randperm(in_features * out_features, generator=g)[:nnz].sort().values  # row-major order
    row, col = flat // in_features, flat % in_features
    crow = torch.zeros(out_features + 1, dtype=torch.int64)
    crow[1:] = torch.cumsum(torch.bincount(row, minlength=out_features), 0)
    # nn.Linear's bound with the expected fan-in of the sparse row kept
    bound = 1.0 / math.sqrt(max(1.0, nnz / out_features))
    values = (torch.rand(nnz, generator=g) * 2 - 1) * bound
    bias = (torch.rand(out_features, generator=g) * 2 - 1) * bound
    return SparseLinear(in_features, out_features, crow, col.to(torch.int32), values, bias)


def build(contender: str, in_features: int, hidden: int, classes: int, compression: float, seed: int) -> ReluMLP:
    """The contender's model, initialised from `seed` (and its hash seeds from it: 2*seed+1, 2*seed+2)."""
    k1, k2 = hashed_counts(in_features, hidden, classes, compression)
    g = torch.Generator().manual_seed(seed)
    if contender == "hashed":
        torch.manual_seed(seed)  # HashedLinear draws its buckets from the global generator
        return ReluMLP([HashedLinear(in_features, hidden, buckets=k1, seed=2 * seed + 1),
                        HashedLinear(hidden, classes, buckets=k2, seed=2 * seed + 2)])
    if contender == "dense":
        torch.manual_seed(seed)
        width = dense_width(in_features, classes, k1 + k2)
        return ReluMLP([nn.Linear(in_features, width), nn.Linear(width, classes)])
    if contender == "sparse":
        return ReluMLP([_random_sparse(in_features, hidden, k1, g), _random_sparse(hidden, classes, k2, g)])
    raise ValueError(f"unknown contender {contender!r}; valid: hashed, dense, sparse")


def stored_weights(model: ReluMLP) -> int:
    """The weights the model actually stores (buckets, CSR values or dense entries), biases aside."""
    total = 0
    for layer in model.layers:
        total += layer.values.numel() if isinstance(layer, SparseLinear) else layer.weight.numel()
    return total


__all__ = ["ReluMLP", "build", "dense_width", "hashed_counts", "storage", "stored_weights"]
