"""Supermasks: a mask applied to untrained weights, evaluated with no training at all.

Zhou, Lan, Liu & Yosinski, "Deconstructing Lottery Tickets: Zeros, Signs, and the Supermask",
NeurIPS 2019 (arXiv:1905.01067), section 5: the mask chosen by a criterion on (w_i, w_f) is
applied to the *initial* weights, f(x; w_i ⊙ m), or to their signed constant a_l·sign(w_i) ⊙ m,
and the network is evaluated as is. They report 86% test accuracy on MNIST for the best rule
(large_final_same_sign), against 10% for chance.
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import nn

from ..masks import select_layerwise
from ..train import evaluate
from .controls import constant_state
from .imp import rewind
from .mask_criteria import mask_scores

WEIGHTS = ("init", "constant")


def supermask_accuracy(model: nn.Module, init: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor],
                       test, weights: str = "init") -> dict:
    """Test metrics of `model` holding ``init ⊙ masks`` (``weights="init"``) or the signed constant
    (``weights="constant"``), without training. `model` is overwritten."""
    state = dict(init) if weights == "init" else constant_state(init, masks)
    rewind(model, state, masks)
    return evaluate(model, *test)


def supermask_table(build: Callable[[], nn.Module], init: Mapping[str, torch.Tensor],
                    final: Mapping[str, torch.Tensor], keep: Mapping[str, Mapping[str, int]],
                    criteria: list[str], test, seed: int = 0) -> list[dict]:
    """One row per (criterion, target, weights): the one-shot mask from (init, final) with
    ``keep[target]`` live weights per layer, evaluated untrained on `test`."""
    rows = []
    model = build()
    for crit in criteria:
        for target, counts in keep.items():
            names = list(counts)
            scores = mask_scores(crit, init, final, names, seed=seed)
            masks = select_layerwise(scores, keep=dict(counts))
            live = sum(int(m.sum()) for m in masks.values())
            total = sum(m.numel() for m in masks.values())
            for w in WEIGHTS:
                m = supermask_accuracy(model, init, masks, test, w)
                rows.append({"criterion": crit, "target": target, "weights": w, "density": live / total,
                             "accuracy": m["accuracy"], "loss": m["loss"]})
    return rows


__all__ = ["WEIGHTS", "supermask_accuracy", "supermask_table"]
