"""Training-loop hooks: keep masked weights at zero (`MaskHook`, defined once in
`sparsenet.train.hooks` and re-exported here); prune on a schedule during training.

`ScheduledPruning` composes criterion + allocation + schedule: at each of the schedule's steps it calls `sparsenet.prune.prune` with the schedule's sparsity, among the
survivors, and holds the masks in between — the "training-loop method" form of the API.
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch

from ..schedules import Schedule
from ..train.hooks import MaskHook, StepContext


class ScheduledPruning(MaskHook):
    """Prune at every one of the schedule's steps (the phase's optimizer steps counted from 0, step 0
    included) with `prune_kwargs`: a level at step s fires before the (s+1)-th optimizer update —
    in `on_start` for a phase starting at s (the loop calls it), else at the first backward pass
    (an engine run outside the loop), later levels right after the s-th update.

    `batch_fn()` returns the batch for data-dependent criteria (called only when pruning).
    """

    def __init__(self, schedule: Schedule, *, criterion: str = "magnitude", batch_fn: Callable | None = None,
                 masks: Mapping[str, torch.Tensor] | None = None,
                 on_prune: Callable[[StepContext, dict], None] | None = None, **prune_kwargs):
        super().__init__(masks or {})
        self.schedule, self.criterion, self.batch_fn = schedule, criterion, batch_fn
        self.on_prune = on_prune  # called (context, new masks) after each level, e.g. `Execution.replan`
        self.prune_kwargs = prune_kwargs
        self.pending = dict(schedule.levels())
        self.history: list[dict] = []

    def prune_now(self, c: StepContext) -> None:
        """Prune to the level scheduled at ``c.step``. The optimizer is handed to `prune`, so a layer
        whose pattern shrinks (SparseLinear) keeps its survivors' state."""
        from .api import prune

        s = self.pending.pop(c.step)
        batch = self.batch_fn() if self.batch_fn is not None else None
        # enforce=False: this hook keeps the masks itself (MaskHook); a second, module-level enforcement
        # would only cost time every step
        self.masks = dict(prune(c.model, self.criterion, s, masks=self.masks or None, batch=batch, enforce=False,
                                optimizer=c.optimizer, **self.prune_kwargs))
        live = sum(int(m.sum()) for m in self.masks.values())
        self.history.append({"step": c.step, "sparsity": s, "live": live})
        if self.on_prune is not None:
            self.on_prune(c, self.masks)

    def on_start(self, c: StepContext) -> None:
        if c.step in self.pending:
            self.prune_now(c)

    def after_backward(self, c: StepContext) -> None:
        if c.step in self.pending:  # a level at the first step when on_start was not called
            self.prune_now(c)
        super().after_backward(c)

    def after_step(self, c: StepContext) -> None:
        if c.step in self.pending:
            self.prune_now(c)
        else:
            super().after_step(c)
