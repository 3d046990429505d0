"""Training-loop hooks: keep masked weights at zero (`MaskHook`, defined once in
`sparsenet.train.hooks` and re-exported here); prune on a schedule during training.

`ScheduledPruning` composes criterion + allocation + schedule: at each of the schedule's steps it calls `sparsenet.prune.prune` with the schedule's sparsity, among the
survivors, and holds the masks in between — the "training-loop method" form of the API.
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import nn

from ..masks import apply_masks
from ..schedules import Schedule
from ..train.hooks import MaskHook


class ScheduledPruning(MaskHook):
    """Prune at every one of the schedule's steps (optimizer steps counted from 0, step 0 included) with
    `prune_kwargs`: a level at step s fires before the (s+1)-th optimizer update.

    `batch_fn()` returns the batch for data-dependent criteria (called only when pruning).
    """

    def __init__(self, schedule: Schedule, *, criterion: str = "magnitude", batch_fn: Callable | None = None,
                 masks: Mapping[str, torch.Tensor] | None = None, **prune_kwargs):
        super().__init__(masks or {})
        self.schedule, self.criterion, self.batch_fn = schedule, criterion, batch_fn
        self.prune_kwargs = prune_kwargs
        self.pending = dict(schedule.levels())
        self.step = 0
        self.history: list[dict] = []

    def prune_now(self, model: nn.Module) -> None:
        from .api import prune

        s = self.pending.pop(self.step)
        batch = self.batch_fn() if self.batch_fn is not None else None
        self.masks = prune(model, self.criterion, s, masks=self.masks or None, batch=batch, **self.prune_kwargs)
        live = sum(int(m.sum()) for m in self.masks.values())
        self.history.append({"step": self.step, "sparsity": s, "live": live})

    def on_start(self, model: nn.Module) -> None:
        """Optional: prune a step-0 level before the first forward pass (else it fires at the first backward)."""
        if self.step in self.pending:
            self.prune_now(model)

    def after_backward(self, model: nn.Module) -> None:
        # A level at step 0 fires here when nobody called on_start: before the first update, so that
        # update (and every later one) already runs on the pruned network. Later levels fire in after_step.
        if self.step in self.pending:
            self.prune_now(model)
        super().after_backward(model)

    def after_step(self, model: nn.Module) -> None:
        self.step += 1
        if self.step in self.pending:
            self.prune_now(model)
        elif self.masks:
            apply_masks(model, self.masks)
