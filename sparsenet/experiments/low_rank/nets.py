"""The nets of the parameter-prediction experiment and the rank of a fraction predicted.

First layer `LowRankLinear(in, H, rank)` with U fixed (a buffer), so it learns V (rank, H) only:
fraction predicted f = 1 - rank * H / (in * H) = 1 - rank / in, hence for a requested f

    rank = max(1, round((1 - f) * in))       e.g. in = 784, f = 0.9: round(78.4) = 78, f = 0.9005

(the rounding makes the achieved fraction differ from the requested one by < 1 / (2 in); both are
recorded). The second layer is an ordinary nn.Linear(H, classes). Reference: dense in-H-classes.
"""
from __future__ import annotations

import torch
from torch import nn

from ...nn import LowRankLinear
from ..hashednets.nets import ReluMLP


def rank_for_fraction(in_features: int, fraction: float) -> int:
    """The rank whose frozen-U LowRankLinear predicts `fraction` of an (out, in) layer's weights."""
    return max(1, min(in_features, round((1.0 - fraction) * in_features)))


def spatial_shape(input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The dictionaries' input_shape: (1, 28, 28) -> (28, 28) (one channel dropped), else as is."""
    return tuple(input_shape[1:]) if len(input_shape) == 3 and input_shape[0] == 1 else tuple(input_shape)


def dictionary_options(name: str, input_shape: tuple[int, ...], seed: int, pca_data: torch.Tensor | None) -> dict:
    """Keyword options of dictionary `name`: the pixel grid for se/dct, the seed for gaussian, data for pca."""
    if name in ("se", "dct"):
        return {"input_shape": spatial_shape(input_shape)}
    if name == "gaussian":
        return {"seed": seed}
    if name == "pca":
        return {"data": pca_data}
    raise ValueError(f"unknown dictionary {name!r}; valid: se, gaussian, dct, pca")


def build(dictionary: str | None, in_features: int, hidden: int, classes: int, rank: int, seed: int, *,
          input_shape: tuple[int, ...], pca_data: torch.Tensor | None = None) -> ReluMLP:
    """in-hidden-classes from `seed`: the first layer LowRankLinear(rank, dictionary), or dense when None."""
    torch.manual_seed(seed)
    if dictionary is None:
        return ReluMLP([nn.Linear(in_features, hidden), nn.Linear(hidden, classes)])
    first = LowRankLinear(in_features, hidden, rank, dictionary=dictionary,
                          **dictionary_options(dictionary, input_shape, seed, pca_data))
    return ReluMLP([first, nn.Linear(hidden, classes)])


def pca_sample(x_train: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """`n` training inputs drawn without replacement from `seed` (all when fewer), flattened."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x_train), generator=g)[:n]
    return x_train[idx].reshape(len(idx), -1)


__all__ = ["build", "dictionary_options", "pca_sample", "rank_for_fraction", "spatial_shape"]
