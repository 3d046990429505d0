"""Iterative magnitude pruning with rewinding: the lottery-ticket procedure.

Frankle & Carbin, "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks",
ICLR 2019, arXiv:1803.03635; late rewinding from Frankle, Dziugaite, Roy & Carbin, "Linear Mode
Connectivity and the Lottery Ticket Hypothesis", ICML 2020, arXiv:1912.05671.

One level L >= 1, starting from the mask m_{L-1} and the weights θ_T trained under it:

    m_L = top-k_L(score(θ_rewind, θ_T)) among the survivors of m_{L-1},
    k_L = round((1 - p) * |m_{L-1}|)             per layer (p_out for the output layer),
    θ ← θ_rewind ⊙ m_L, train T - k steps,

where θ_rewind = θ_0 (rewind to initialization) or θ_k (the weights after k steps of the dense
run, "late rewinding"). After L levels a hidden layer keeps about (1 - p)^L of its weights.
``scope="global"`` ranks the hidden layers together (one k for their sum) and prunes the output
layer on its own at p_out, as Frankle & Carbin do for their conv nets.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..masks import Masks, select_global, select_layerwise
from ..masks.layers import layer_views
from .errors import LevelError, PruneRateError


def check_rate(rate: float, what: str = "--rate") -> float:
    """`rate` as a float when 0 < rate < 1, else a one-line `PruneRateError`."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 1:
        raise PruneRateError(f"pruning rate {what} {rate!r} is outside (0, 1): it is the fraction of the "
                             f"surviving weights removed per level, e.g. 0.2")
    return float(rate)


def output_names(names: list[str]) -> list[str]:
    """The names of the last layer's tensors (its weight, and its bias when biases are pruned too)."""
    if not names:
        return []
    layer = names[-1].rsplit(".", 1)[0]
    return [n for n in names if n.rsplit(".", 1)[0] == layer]


def layer_rates(names: list[str], rate: float, output_rate: float | None) -> dict[str, float]:
    """Per-layer rate: `rate` for every layer, `output_rate` (when given) for the last one."""
    out = {n: rate for n in names}
    if output_rate is not None:
        out.update({n: output_rate for n in output_names(names)})
    return out


def _keep(n_alive: int, rate: float) -> int:
    return int(round((1.0 - rate) * n_alive))


def level_counts(sizes: Mapping[str, int], levels: int, rate: float,
                 output_rate: float | None = None) -> list[dict[str, int]]:
    """Live weights per layer at levels 0..`levels` under layerwise IMP (exact rounding).

    Raises `LevelError` naming the first level that would leave a layer with 0 weights.

    >>> level_counts({"a": 10, "b": 5}, 2, 0.2, 0.1)
    [{'a': 10, 'b': 5}, {'a': 8, 'b': 4}, {'a': 6, 'b': 4}]
    """
    names = list(sizes)
    rates = layer_rates(names, rate, output_rate)
    counts = [dict(sizes)]
    for level in range(1, levels + 1):
        nxt = {n: _keep(counts[-1][n], rates[n]) for n in names}
        for n in names:
            if nxt[n] == 0:
                raise LevelError(
                    f"--levels {levels} would empty layer {n!r} at level {level} ({sizes[n]} weights, "
                    f"rate {rates[n]}); use at most --levels {level - 1} or a lower rate")
        counts.append(nxt)
    return counts


def prune_level(scores: Mapping[str, torch.Tensor], alive: Mapping[str, torch.Tensor], rate: float,
                output_rate: float | None = None, scope: str = "layerwise") -> Masks:
    """One IMP pruning step: remove `rate` of the survivors (highest score kept), exact counts.

    ``scope="layerwise"``: each layer keeps ``round((1 - rate) * alive)``; the last layer of
    `alive` uses `output_rate` when given. ``scope="global"``: the layers but the last are
    ranked together; the last (output) layer is pruned on its own at `output_rate` (or `rate`).
    """
    names = list(alive)
    rates = layer_rates(names, rate, output_rate)
    if scope == "layerwise":
        keep = {n: _keep(int(alive[n].sum()), rates[n]) for n in names}
        return select_layerwise(scores, alive, keep=keep)
    if scope != "global":
        raise LevelError(f"unknown scope {scope!r}; valid scopes: layerwise, global")
    last = output_names(names)
    hidden = [n for n in names if n not in last]
    out: Masks = {}
    if hidden:
        n_alive = sum(int(alive[n].sum()) for n in hidden)
        out.update(select_global({n: scores[n] for n in hidden}, {n: alive[n] for n in hidden},
                                 keep=_keep(n_alive, rate)))
    for n in last:
        out[n] = select_layerwise({n: scores[n]}, {n: alive[n]}, keep=_keep(int(alive[n].sum()), rates[n]))[n]
    return {n: out[n] for n in names}


@torch.no_grad()
def rewind(model: nn.Module, state: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> None:
    """Load `state` (θ_0 or θ_k, every parameter) into `model` and zero the pruned weights.

    Every layer first takes its mask as its live set (`LayerView.set_mask_`: a SparseLinear grows
    the entries the mask keeps and drops the others), then loads θ's values at that pattern; a
    SparseLinear without a mask keeps its pattern and gathers θ there.
    """
    views = layer_views(model)
    state = dict(state)
    for key, view in views.items():
        if key in masks:
            view.set_mask_(masks[key])
        if not view.native and key in state:  # θ off the pattern is dropped, not an error
            w = state[key]
            state[key] = w * view.mask().to(w.device)
    model.load_state_dict(state, strict=True)
    params = dict(model.named_parameters())
    for n, m in masks.items():
        if n in params:
            params[n].masked_fill_(~m.to(params[n].device), 0)


__all__ = ["check_rate", "layer_rates", "level_counts", "prune_level", "rewind"]
