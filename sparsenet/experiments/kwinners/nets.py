"""The two models of the robustness comparison, both in-H-H-classes:

* ``dense``: nn.Linear -> ReLU -> nn.Linear -> ReLU -> nn.Linear (the paper's dense baseline).
* ``sparse``: the paper's "sparse net": SparseLinear.random(density) -> KWinners -> SparseLinear.random
  (density) -> KWinners -> dense nn.Linear output. k-WTA replaces ReLU (winners pass their value,
  k = round(percent_on * H)); boosting β decays once per epoch (`BoostDecay`).
"""
from __future__ import annotations

import torch
from torch import nn

from ...nn import KWinners, SparseLinear
from ...train.hooks import BoostDecay  # noqa: F401  (re-exported: the hook lives in the library)


class Stack(nn.Module):
    """layers applied in order, each followed by its activation (None: the logits layer)."""

    def __init__(self, layers, activations):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.activations = nn.ModuleList([a if a is not None else nn.Identity() for a in activations])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer, act in zip(self.layers, self.activations):
            x = act(layer(x))
        return x


def build(model: str, in_features: int, hidden: int, classes: int, seed: int, *, density: float = 0.3,
          percent_on: float = 0.1, boost_strength: float = 1.5, boost_strength_factor: float = 0.85,
          k_inference_factor: float = 1.5) -> Stack:
    """The model initialised from `seed` (torch's global generator for nn.Linear, a Generator for the
    sparse patterns and values)."""
    torch.manual_seed(seed)
    if model == "dense":
        return Stack([nn.Linear(in_features, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, classes)],
                     [nn.ReLU(), nn.ReLU(), None])
    if model == "sparse":
        g = torch.Generator().manual_seed(seed)

        def kwta():
            return KWinners(hidden, percent_on=percent_on, boost_strength=boost_strength,
                            boost_strength_factor=boost_strength_factor, k_inference_factor=k_inference_factor)
        return Stack([SparseLinear.random(in_features, hidden, density, generator=g),
                      SparseLinear.random(hidden, hidden, density, generator=g), nn.Linear(hidden, classes)],
                     [kwta(), kwta(), None])
    raise ValueError(f"unknown model {model!r}; valid: dense, sparse")


def stored_weights(model: Stack) -> int:
    """Weights stored (CSR values or dense entries), biases aside."""
    return sum(layer.values.numel() if isinstance(layer, SparseLinear) else layer.weight.numel()
               for layer in model.layers)


__all__ = ["BoostDecay", "Stack", "build", "stored_weights"]
