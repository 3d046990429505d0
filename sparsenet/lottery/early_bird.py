"""Early-bird tickets: draw the ticket early in dense training, once its mask stops changing.

You, Li, Xu, Fu, Wang, Chen, Baraniuk, Wang & Lin, "Drawing Early-Bird Tickets: Towards More
Efficient Training of Deep Networks", ICLR 2020, arXiv:1909.11957.

Every `every` steps of dense training (an "epoch" of the paper) take the mask m_t that pruning
would produce now, and its distance to the previous one,

    d_t = Hamming(m_t, m_{t-1}) / |m|                  (normalized: fraction of entries that differ),

keep the last W distances in a FIFO; the ticket is drawn at the first t where the queue is full
and max(d_{t-W+1}, ..., d_t) < ε. Dense training then stops and the ticket is trained: the check
is a training-loop hook (`EarlyBirdHook`) that ends the dense phase with `c.stop()`.

Structures: ``unstructured`` (magnitude top-k per layer, the IMP counts of a chosen level) and
``neuron`` (hidden units ranked by the L2 norm of their incoming weights, a fraction of each
hidden layer removed: the MLP analogue of the paper's channel pruning); a neuron mask removes
the unit's row in its layer and its column in the next.
"""
from __future__ import annotations

from collections import deque
from typing import Mapping

import torch
from torch import nn

from ..masks import Masks, hamming_distance, magnitude_scores, prunable_names, select_layerwise, topk_mask
from ..train import Hook, LoopSettings, PhaseState, RunContext, SampleStream, StepContext, TorchEngine, train_phase
from .training import TrainSpec


class EarlyBird:
    """FIFO of the last `window` mask distances; `update(mask)` returns True once drawn."""

    def __init__(self, window: int = 5, threshold: float = 0.1):
        self.window, self.threshold = window, threshold
        self.queue: deque[float] = deque(maxlen=window)
        self.previous: Masks | None = None
        self.history: list[float] = []

    def update(self, masks: Mapping[str, torch.Tensor]) -> bool:
        masks = {k: v.clone() for k, v in masks.items()}
        if self.previous is not None:
            d = hamming_distance(self.previous, masks)
            self.queue.append(d)
            self.history.append(d)
        self.previous = masks
        return len(self.queue) == self.window and max(self.queue) < self.threshold


def unstructured_mask(model: nn.Module, keep: Mapping[str, int]) -> Masks:
    """Magnitude mask with exactly ``keep[name]`` weights per layer."""
    return select_layerwise(magnitude_scores(model, list(keep)), keep=dict(keep))


def neuron_mask(model: nn.Module, rate: float) -> Masks:
    """Per hidden layer, a bool vector over its units keeping ``round((1 - rate) * width)`` by
    the L2 norm of the incoming weights (the output layer's units are never removed)."""
    params = dict(model.named_parameters())
    names = prunable_names(model)[:-1]
    out: Masks = {}
    for n in names:
        norms = params[n].detach().norm(dim=1)  # (out,) one norm per unit
        out[n] = topk_mask(norms, torch.ones_like(norms, dtype=torch.bool), int(round((1 - rate) * norms.numel())))
    return out


def units_to_weights(model: nn.Module, units: Mapping[str, torch.Tensor]) -> Masks:
    """Weight masks of every prunable layer from unit masks: a removed unit loses its row in its
    layer and its column in the next layer."""
    params = dict(model.named_parameters())
    names = prunable_names(model)
    out = {n: torch.ones_like(params[n], dtype=torch.bool) for n in names}
    for i, n in enumerate(names):
        if n in units:
            out[n] &= units[n][:, None]
            if i + 1 < len(names):
                out[names[i + 1]] &= units[n][None, :]
    return out


class EarlyBirdHook(Hook):
    """Every `every` optimizer steps (and at the phase's last step) take the mask `mask_fn(model)`
    returns — ``(mask to track, weight masks)`` — and feed it to `bird`; stop the phase once drawn."""

    def __init__(self, bird: EarlyBird, mask_fn, every: int):
        self.bird, self.mask_fn, self.every = bird, mask_fn, every
        self.distances: list[dict] = []
        self.drawn, self.weights, self.checked = False, None, -1

    def _check(self, c: StepContext) -> None:
        track, self.weights = self.mask_fn(c.model)
        self.drawn = self.bird.update(track)
        if c.step > 0:
            self.distances.append({"step": c.step, "distance": self.bird.history[-1]})
        self.checked = c.step

    def on_start(self, c: StepContext) -> None:
        self._check(c)  # the mask of θ0 (no distance yet)

    def after_step(self, c: StepContext) -> None:
        if c.step % self.every == 0:
            self._check(c)
            if self.drawn:
                c.stop()

    def on_end(self, c: StepContext) -> None:
        if self.checked != c.step:  # the budget ended between two checks
            self._check(c)


def draw_early_bird(ctx: RunContext, model: nn.Module, spec: TrainSpec, train, stream: SampleStream, *,
                    every: int, structure: str, keep: Mapping[str, int] | None = None,
                    neuron_rate: float = 0.5, window: int = 5, threshold: float = 0.1) -> dict:
    """Dense training of `model` (holding θ0) through the one loop, checking the mask every
    `every` steps, up to `spec.steps` (the dense budget). Returns ``{"drawn", "draw_step",
    "masks" (weight masks), "distances": [{"step", "distance"}]}``; when the criterion never
    fires the mask at the end of the budget is returned with ``drawn=False``."""
    engine = TorchEngine(model, spec.optimizer_for(model.parameters()))

    def mask_now(m: nn.Module) -> tuple[Masks, Masks]:
        if structure == "neuron":
            units = neuron_mask(m, neuron_rate)
            return units, units_to_weights(m, units)
        w = unstructured_mask(m, keep)
        return w, w

    hook = EarlyBirdHook(EarlyBird(window, threshold), mask_now, every)
    settings = LoopSettings(steps=spec.steps, batch_size=spec.batch_size, log_every=spec.log_every,
                            eval_every=0, checkpoint_every=0)
    state = train_phase(ctx, PhaseState("early-bird"), engine, train, stream, settings=settings, stream_start=0,
                        hooks=[hook])
    return {"drawn": hook.drawn, "draw_step": state.step, "masks": hook.weights, "distances": hook.distances}


__all__ = ["EarlyBird", "EarlyBirdHook", "draw_early_bird", "neuron_mask", "units_to_weights", "unstructured_mask"]
