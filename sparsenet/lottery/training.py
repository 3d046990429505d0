"""Training a (masked) network through the one loop, recording the curve for early stopping.

`train_masked` builds a `TorchEngine` with a `KeepMasked` hook (pruned weights get zero
gradient and are re-zeroed after each optimizer step, so Adam's moments never move them) and
calls `sparsenet.train.train_phase` once; a `SnapshotHook` copies the weights at `snapshot_at`
(θ_k for late rewinding). Every `eval_every` steps (and at the end) the validation and
test loss / accuracy are recorded in the curve and logged to ``metrics.jsonl`` as ``"event":
"eval"`` lines labelled ``"split": "val"`` and ``"split": "test"``; the early-stopping iteration is
the step of the minimum validation loss (Frankle & Carbin 2019, arXiv:1803.03635, use it as their
measure of learning speed). Without a validation split (``val=None``) only the test set is
evaluated, and the early-stopping measures are None.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from ..masks import apply_masks
from ..train.execution import prepare_execution
from ..train import (Hook, LoopSettings, MaskHook, PhaseState, RunContext, SampleStream, SnapshotHook, StepContext,
                     TorchEngine, evaluate, make_optimizer, train_phase)


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
    execution: str = "masked"  # how masked layers train: masked, csr or auto (`sparsenet.train.execution`)

    def optimizer_for(self, params) -> torch.optim.Optimizer:
        """This spec's optimizer over `params` (the project's one factory)."""
        return make_optimizer(self.optimizer, params, lr=self.lr, momentum=self.momentum)


class _Curve(Hook):
    """on_eval hook: append (step, val loss, val acc, test loss, test acc) and log what the loop
    did not (the loop logs its own `eval_data`: the validation split, or the test set when there
    is none)."""

    def __init__(self, ctx: RunContext, model: nn.Module, val, test, phase: str):
        self.ctx, self.model, self.val, self.test, self.phase, self.points = ctx, model, val, test, phase, []

    def _log(self, step: int, split: str, m: dict) -> None:
        self.ctx.log({"event": "eval", "phase": self.phase, "step": step, "split": split, **m})

    def _append(self, step: int, v: dict | None, t: dict) -> None:
        self.points.append({"step": step, "val_loss": v["loss"] if v else None,
                            "val_accuracy": v["accuracy"] if v else None,
                            "test_loss": t["loss"], "test_accuracy": t["accuracy"]})

    def record(self, step: int) -> tuple[dict | None, dict]:
        """Evaluate and log both splits at `step` (evaluations the loop does not make)."""
        v = evaluate(self.model, *self.val) if self.val is not None else None
        if v is not None:
            self._log(step, "val", v)
        t = evaluate(self.model, *self.test)
        self._log(step, "test", t)
        self._append(step, v, t)
        return v, t

    def on_eval(self, c: StepContext, m: dict) -> None:
        if self.val is None:  # the loop evaluated (and logged) the test set
            self._append(c.step, None, m)
            return
        t = evaluate(self.model, *self.test)
        self._log(c.step, "test", t)
        self._append(c.step, m, t)


def train_masked(ctx: RunContext, model: nn.Module, masks: Mapping[str, torch.Tensor], spec: TrainSpec,
                 train, val, test, stream: SampleStream, *, start_step: int = 0, snapshot_at: int | None = None,
                 phase: str = "train") -> dict:
    """Train `model` (already holding its starting weights) from `start_step` to `spec.steps`.

    Data order continues the stream at position ``start_step * batch_size`` (a late-rewound
    ticket sees the batches the dense run saw after step k). `val` is the validation split or
    None (then ``"val"``, ``"early_stop_step"`` and ``"early_stop_test_accuracy"`` are None).
    Returns ``{"test", "val", "curve", "early_stop_step", "early_stop_test_accuracy",
    "snapshot", "execution"}``; ``snapshot`` is the state dict at `snapshot_at` (or None), ``execution``
    the per-layer choices of ``spec.execution`` (the model is back to dense nn.Linear layers either way).
    """
    if val is not None and val[0].shape[0] == 0:
        val = None  # an empty split measures nothing (its "accuracy" would read 0)
    apply_masks(model, masks)
    execution = prepare_execution(model, masks, spec.execution, batch_size=spec.batch_size,
                                  optimizer=spec.optimizer)  # masked: KeepMasked(masks); csr: SparseLinear
    engine = TorchEngine(model, spec.optimizer_for(model.parameters()), hooks=execution.hooks)
    curve = _Curve(ctx, model, val, test, phase)
    snap = SnapshotHook(snapshot_at) if snapshot_at is not None else None
    settings = LoopSettings(steps=spec.steps, batch_size=spec.batch_size, log_every=spec.log_every,
                            eval_every=spec.eval_every, checkpoint_every=0)
    try:
        train_phase(ctx, PhaseState(phase, step=start_step), engine, train, stream, settings=settings, stream_start=0,
                    hooks=[curve] + ([snap] if snap else []), eval_data=val if val is not None else test,
                    eval_split="val" if val is not None else "test")
    finally:
        execution.restore()  # dense nn.Linear layers again, holding the trained weights
    snapshot = snap.state if snap else None
    v, t = curve.record(spec.steps)
    es_step = es_acc = None
    if val is not None:
        best = min(curve.points, key=lambda p: (p["val_loss"], p["step"]))
        es_step, es_acc = best["step"], best["test_accuracy"]
    return {"test": t, "val": v, "curve": curve.points, "early_stop_step": es_step,
            "early_stop_test_accuracy": es_acc, "snapshot": snapshot, "execution": execution.choices}


__all__ = ["KeepMasked", "TrainSpec", "train_masked"]
