"""Training a (masked) network through the one loop, recording the curve for early stopping.

`train_masked` builds a `TorchEngine` with a `KeepMasked` hook (pruned weights get zero
gradient and are re-zeroed after each optimizer step, so Adam's moments never move them) and
calls `sparsenet.train.train_phase`, optionally stopping once at `snapshot_at` to copy the
weights (θ_k for late rewinding). Every `eval_every` steps the validation loss and the test
accuracy are recorded; the early-stopping iteration is the step of the minimum validation loss
(Frankle & Carbin 2019, arXiv:1803.03635, use it as their measure of learning speed).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from ..masks import apply_masks
from ..train import (LoopSettings, MaskHook, PhaseState, RunContext, SampleStream, TorchEngine, evaluate,
                     train_phase)


KeepMasked = MaskHook  # the project's mask-keeping engine hook, under the name lottery code uses


@dataclass(frozen=True)
class TrainSpec:
    steps: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    momentum: float = 0.0
    eval_every: int = 0
    log_every: int = 1000


def make_optimizer(spec: TrainSpec, params) -> torch.optim.Optimizer:
    if spec.optimizer == "sgd":
        return torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum)
    return torch.optim.Adam(params, lr=spec.lr)


class _Curve:
    """on_eval hook: append (step, val loss, val acc, test acc)."""

    def __init__(self, model: nn.Module, test):
        self.model, self.test, self.points = model, test, []

    def record(self, step: int, val: dict) -> None:
        t = evaluate(self.model, *self.test)
        self.points.append({"step": step, "val_loss": val["loss"], "val_accuracy": val["accuracy"],
                            "test_accuracy": t["accuracy"]})

    def on_eval(self, ctx, state, m) -> None:
        self.record(state.step, m)


def train_masked(ctx: RunContext, model: nn.Module, masks: Mapping[str, torch.Tensor], spec: TrainSpec,
                 train, val, test, stream: SampleStream, *, start_step: int = 0, snapshot_at: int | None = None,
                 phase: str = "train") -> dict:
    """Train `model` (already holding its starting weights) from `start_step` to `spec.steps`.

    Data order continues the stream at position ``start_step * batch_size`` (a late-rewound
    ticket sees the batches the dense run saw after step k). Returns ``{"test", "val", "curve",
    "early_stop_step", "early_stop_test_accuracy", "snapshot"}``; ``snapshot`` is the state
    dict at `snapshot_at` (or None).
    """
    apply_masks(model, masks)
    engine = TorchEngine(model, make_optimizer(spec, model.parameters()), hooks=[KeepMasked(masks)])
    curve = _Curve(model, test)
    state = PhaseState(phase, step=start_step)
    stops = sorted({s for s in (snapshot_at, spec.steps) if s is not None and s > start_step} | {spec.steps})
    snapshot = None
    if snapshot_at is not None and snapshot_at <= start_step:
        snapshot = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for stop in stops:
        settings = LoopSettings(steps=stop, batch_size=spec.batch_size, log_every=spec.log_every,
                                eval_every=spec.eval_every, checkpoint_every=0)
        train_phase(ctx, state, engine, train, stream, settings=settings, stream_start=0,
                    checkpoint=lambda st: {}, hooks=[curve], eval_data=val)
        if stop == snapshot_at:
            snapshot = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if stop < spec.steps and spec.eval_every and stop % spec.eval_every == 0:
            curve.record(stop, evaluate(model, *val))  # train_phase skips evals at its last step
    v = evaluate(model, *val)
    curve.record(spec.steps, v)
    t = evaluate(model, *test)
    best = min(curve.points, key=lambda p: (p["val_loss"], p["step"]))
    ctx.log({"event": "eval", "phase": phase, "step": spec.steps, "split": "test", **t})
    return {"test": t, "val": v, "curve": curve.points, "early_stop_step": best["step"],
            "early_stop_test_accuracy": best["test_accuracy"], "snapshot": snapshot}


__all__ = ["KeepMasked", "TrainSpec", "make_optimizer", "train_masked"]
