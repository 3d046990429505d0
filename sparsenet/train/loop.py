"""The one training loop.

`train_phase` runs `steps` optimizer steps of one phase (burn-in, sparse, dense ...) through an
engine, in chunks that end at every logging / evaluation / checkpoint boundary and last at most
about `LoopSettings.chunk_seconds` (so a progress bar moves >= 2x a second). The engine continues
the running loss sum across chunks, so where chunks end never changes a result. Wall-clock time
is measured around the engine only (evaluation, logging and checkpoints are not training time).
Hooks (`on_start`, `on_eval`, `on_end`; per-step `after_backward`/`after_step` go to the engine)
let methods plug in without editing the loop. A non-finite loss stops the run with
`DivergenceError`; the checkpoint on disk stays the last good one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from ..errors import DivergenceError
from . import progress
from .context import RunContext
from .stream import SampleStream


@dataclass
class PhaseState:
    phase: str
    step: int = 0          # optimizer steps done in this phase
    seconds: float = 0.0   # training wall-clock in this phase
    loss_sum: float = 0.0  # since the last log line
    loss_steps: int = 0


@dataclass
class LoopSettings:
    steps: int
    batch_size: int
    log_every: int = 1000
    eval_every: int = 0
    checkpoint_every: int = 5000
    chunk_seconds: float = progress.CHUNK_SECONDS  # chunk length between progress updates (0: 1 step)


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, batch: int = 2000) -> dict:
    """Mean cross-entropy and accuracy over the whole of (X, Y)."""
    model.eval()
    loss, correct = 0.0, 0
    for i in range(0, X.shape[0], batch):
        out = model(X[i:i + batch])
        loss += float(nn.functional.cross_entropy(out, Y[i:i + batch], reduction="sum"))
        correct += int((out.argmax(1) == Y[i:i + batch]).sum())
    n = max(1, X.shape[0])
    return {"loss": loss / n, "accuracy": correct / n}


def train_phase(ctx: RunContext, state: PhaseState, engine, data, stream: SampleStream, *,
                settings: LoopSettings, stream_start: int, checkpoint: Callable[[PhaseState], dict],
                hooks: Sequence = (), eval_data=None, eval_split: str = "test") -> PhaseState:
    """Run the phase from `state.step` to `settings.steps`. `stream_start` is the phase's first
    stream position; `checkpoint(state)` returns the dict to save (model, optimizer, ...).
    `eval_data` is evaluated every `settings.eval_every` steps and logged with ``"split":
    eval_split`` (``"val"`` for a validation split, ``"test"`` for the test set)."""
    X, Y = data
    B = settings.batch_size
    bar = progress.bar(ctx.progress, total=settings.steps, initial=state.step, desc=state.phase)
    first, seconds0, cap, last_loss = state.step, state.seconds, 1, None
    for h in hooks:
        getattr(h, "on_start", lambda *a: None)(ctx, state)
    try:
        while state.step < settings.steps:
            nxt = settings.steps
            for every in (settings.log_every, settings.eval_every, settings.checkpoint_every):
                if every > 0:
                    nxt = min(nxt, (state.step // every + 1) * every)
            n = min(nxt - state.step, cap)
            order = stream.take(stream_start + state.step * B, n * B)
            t0 = time.perf_counter()
            state.loss_sum, done = engine.train(X, Y, order, B, loss_start=state.loss_sum)
            elapsed = time.perf_counter() - t0
            state.seconds += elapsed
            state.step += done
            state.loss_steps += done
            cap = progress.next_chunk(cap, done, elapsed, settings.chunk_seconds)
            if bar is not None:
                bar.update(done)
            if done < n:
                raise DivergenceError(
                    f"training diverged: non-finite loss at step {state.step + 1} of phase "
                    f"{state.phase!r}; the last good checkpoint is {ctx.checkpoint_path}; "
                    f"lower --lr (or use a smaller --batch-size/optimizer change) and rerun")
            at = state.step
            if at < nxt:
                continue  # inside a chunk of the boundaries below: nothing to log or save yet
            if settings.log_every and (at % settings.log_every == 0 or at == settings.steps):
                last_loss = state.loss_sum / max(1, state.loss_steps)
                ctx.log({"event": "train", "phase": state.phase, "step": at,
                         "samples": stream_start + at * B, "loss": last_loss,
                         "seconds": round(state.seconds, 6)})
                state.loss_sum, state.loss_steps = 0.0, 0
            if eval_data is not None and settings.eval_every and at % settings.eval_every == 0 \
                    and at < settings.steps:
                m = evaluate(engine.model, *eval_data)
                ctx.log({"event": "eval", "phase": state.phase, "step": at,
                         "samples": stream_start + at * B, "split": eval_split, **m})
                for h in hooks:
                    getattr(h, "on_eval", lambda *a: None)(ctx, state, m)
            if settings.checkpoint_every and at % settings.checkpoint_every == 0 and at < settings.steps:
                ctx.save_checkpoint(checkpoint(state))
    finally:
        if bar is not None:
            bar.close()
    if state.step > first:
        loss = "" if last_loss is None else f", loss {last_loss:.4g}"
        progress.line(ctx.progress, f"[train] {state.phase}: steps {first}-{state.step} of {settings.steps} "
                                    f"in {state.seconds - seconds0:.1f} s{loss}")
    for h in hooks:
        getattr(h, "on_end", lambda *a: None)(ctx, state)
    return state


def is_finite_model(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


__all__ = ["PhaseState", "LoopSettings", "train_phase", "evaluate", "is_finite_model"]
