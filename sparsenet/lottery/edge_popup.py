"""Edge-popup: train a score per weight of a frozen random network; use only the top-k% weights.

Ramanujan, Wortsman, Kembhavi, Farhadi & Rastegari, "What's Hidden in a Randomly Weighted Neural
Network?", CVPR 2020, arXiv:1911.13299. For a layer with frozen weights W and scores S,

    forward:   y = (W ⊙ h(S)) x,   h(S)_ij = 1 if |S_ij| is among the top k% of |S| in the layer
    backward:  ∂L/∂S_ij := ∂L/∂(W ⊙ h)_ij · W_ij       (straight-through: h treated as identity)

so only S is learned. Frozen weights: ``signed_constant`` (±σ, σ = sqrt(2 / fan_in), random
signs: the paper's "signed Kaiming constant") or ``kaiming_normal`` (N(0, σ²)). No biases.

``mode="neuron"`` learns one score per hidden unit instead and keeps the top-k% units of each
hidden layer (a removed unit's row is zero; with ReLU and no bias its output is 0, so its column
in the next layer is dead too): the neuron pruning of Malach et al. 2020 (arXiv:2002.00585).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .errors import TopKError

INITS = ("signed_constant", "kaiming_normal")


def check_k(k: float) -> float:
    """`k` (percent kept) as a float when 0 < k <= 100, else a one-line `TopKError`."""
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not 0 < k <= 100:
        raise TopKError(f"edge-popup k {k!r} is outside (0, 100]: it is the percent of weights kept, e.g. 50")
    return float(k)


class TopKStraightThrough(torch.autograd.Function):
    """Mask of the ``round(frac * n)`` largest entries (at least 1); gradient passed straight through."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor, frac: float) -> torch.Tensor:
        flat = scores.reshape(-1)
        j = max(1, int(round(frac * flat.numel())))
        mask = torch.zeros_like(flat)
        mask[torch.topk(flat, j, sorted=False).indices] = 1.0
        return mask.view_as(scores)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad, None


def frozen_weight(out_f: int, in_f: int, init: str, g: torch.Generator) -> torch.Tensor:
    sigma = math.sqrt(2.0 / in_f)
    if init == "signed_constant":
        return sigma * (torch.randint(0, 2, (out_f, in_f), generator=g).float() * 2 - 1)
    if init == "kaiming_normal":
        return sigma * torch.randn(out_f, in_f, generator=g)
    raise TopKError(f"unknown edge-popup init {init!r}; valid inits: {', '.join(INITS)}")


class PopupLinear(nn.Module):
    """A frozen random linear layer (buffer ``weight``) with learned ``scores``."""

    def __init__(self, in_f: int, out_f: int, k: float, init: str, g: torch.Generator,
                 mode: str = "weight"):
        super().__init__()
        self.frac = check_k(k) / 100.0
        self.mode = mode
        self.register_buffer("weight", frozen_weight(out_f, in_f, init, g))
        shape = (out_f, in_f) if mode == "weight" else (out_f, 1)
        s = torch.empty(shape)
        bound = 1.0 / math.sqrt(shape[1])  # kaiming_uniform(a=sqrt(5)), as the paper's code
        with torch.no_grad():
            s.uniform_(-bound, bound, generator=g)
        self.scores = nn.Parameter(s)

    def mask(self) -> torch.Tensor:
        return TopKStraightThrough.apply(self.scores.abs(), self.frac)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.mask()
        return nn.functional.linear(x, self.weight * m)  # (B, in) @ (in, out) -> (B, out)


class PopupMLP(nn.Module):
    """ReLU MLP of `PopupLinear` layers. In ``mode="neuron"`` the output layer keeps all units
    (k applies to the hidden units); in ``mode="weight"`` every layer keeps k% of its weights."""

    def __init__(self, sizes: list[int], k: float, init: str = "signed_constant", seed: int = 0,
                 mode: str = "weight", hidden_k: float | None = None):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.sizes, self.mode = list(sizes), mode
        last = len(sizes) - 2
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            kk = k if mode == "weight" else (100.0 if i == last else (hidden_k or k))
            layers.append(PopupLinear(a, b, kk, init, g, mode="weight" if mode == "weight" else "neuron"))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x

    @torch.no_grad()
    def effective_params(self) -> int:
        """Weights that can affect the output: kept weights whose input unit is alive."""
        alive_in = torch.ones(self.sizes[0], dtype=torch.bool)
        total = 0
        for layer in self.layers:
            m = layer.mask().expand_as(layer.weight).bool() & alive_in[None, :]
            total += int(m.sum())
            alive_in = m.any(dim=1)
        return total


__all__ = ["INITS", "PopupLinear", "PopupMLP", "TopKStraightThrough", "check_k", "frozen_weight"]
