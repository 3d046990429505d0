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
    """Prune at the schedule's steps (counted in optimizer steps from 0) with `prune_kwargs`.

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
        if self.step in self.pending:
            self.prune_now(model)

    def after_step(self, model: nn.Module) -> None:
        self.step += 1
        if self.step in self.pending:
            self.prune_now(model)
        elif self.masks:
            apply_masks(model, self.masks)
