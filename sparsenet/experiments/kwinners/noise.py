"""Noisy test inputs and the noise score of the robustness comparison.

At noise level s the test inputs become clip(x + s · (hi − lo) · ε, lo, hi), ε ~ N(0, 1) per input
value, where [lo, hi] is the range of the training inputs ([0, 1] for Fashion-MNIST pixels, so s is the
noise std in pixel units). ε comes from a Generator seeded with noise_seed + the level's index, so
every model and seed sees the same noisy images.

Noise score (after the paper's): the total number of correctly classified test samples over the
clean test set and every noise level, i.e. sum over levels L in {0} ∪ noise_levels of correct(L).
With T test samples and m noise levels it lies in [0, (m + 1) · T].
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch


def noisy(x: torch.Tensor, level: float, seed: int, lo: float, hi: float) -> torch.Tensor:
    """x plus Gaussian noise of std level · (hi − lo), clipped to [lo, hi]; level 0 returns x."""
    if level == 0:
        return x
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(x.shape, generator=g, dtype=x.dtype)
    return (x + level * (hi - lo) * eps).clamp_(lo, hi)


@torch.no_grad()
def correct_count(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 2000) -> int:
    model.eval()
    return sum(int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()) for i in range(0, len(x), batch))


def noise_correct(model, x, y, levels: Sequence[float], noise_seed: int, lo: float, hi: float) -> dict[str, int]:
    """Correct classifications at level 0 (clean) and each noise level, keyed by the level's text."""
    out = {"0": correct_count(model, x, y)}
    for i, level in enumerate(levels):
        out[f"{level:g}"] = correct_count(model, noisy(x, level, noise_seed + i, lo, hi), y)
    return out


def noise_score(correct: Mapping[str, int]) -> int:
    """The paper's noise score: correct classifications summed over the clean set and all noise levels."""
    return sum(int(v) for v in correct.values())


__all__ = ["correct_count", "noise_correct", "noise_score", "noisy"]
