"""The one training loop.

`train_phase` runs `steps` optimizer steps of one phase (burn-in, sparse, dense ...) through an
engine, in chunks that end at every logging / evaluation / checkpoint boundary and last at most
about `LoopSettings.chunk_seconds` (so a progress bar moves >= 2x a second). The engine continues
the running loss sum across chunks, so where chunks end never changes a result. Wall-clock time
is measured around the engine only (evaluation, logging and checkpoints are not training time).
Hooks (`sparsenet.train.hooks.Hook`: `on_start`, `after_backward`, `after_step`, `on_eval`,
`on_end`, each given one `StepContext`) let methods plug in without editing the loop; the loop and
the engine call the same hooks, and a hook may end the phase early with `c.stop()`. A non-finite
loss stops the run with `DivergenceError`; the checkpoint on disk stays the last good one.
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
from .hooks import StepContext, check_supported, merge_hooks
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
                settings: LoopSettings, stream_start: int,
                checkpoint: Callable[[PhaseState], dict] | None = None, hooks: Sequence = (),
                eval_data=None, eval_split: str = "test",
                eval_fn: Callable[[nn.Module], dict] | None = None) -> PhaseState:
    """Run the phase from `state.step` to `settings.steps` (or the step at which a hook calls
    `c.stop()`). `stream_start` is the phase's first stream position; `checkpoint(state)` returns
    the dict to save (model, optimizer, ...) every `settings.checkpoint_every` steps (None: never).
    Every `settings.eval_every` steps (before the last) the model is evaluated — `eval_fn(model)`,
    else cross-entropy and accuracy on `eval_data` — logged with ``"split": eval_split`` (``"val"``
    for a validation split, ``"test"`` for the test set) and passed to the hooks' `on_eval`.
    `hooks` run after the engine's own (`engine.hooks`); each runs once per event."""
    X, Y = data
    B = settings.batch_size
    hooks = check_supported(merge_hooks(getattr(engine, "hooks", ()), hooks), engine)
    if eval_fn is None and eval_data is not None:
        eval_fn = lambda model: evaluate(model, *eval_data)  # noqa: E731
    c = StepContext(engine.model, getattr(engine, "optimizer", None), state.phase, state.step, ctx, state.seconds)
    save_every = settings.checkpoint_every if checkpoint is not None else 0
    bar = progress.bar(ctx.progress, total=settings.steps, initial=state.step, desc=state.phase)
    first, seconds0, cap, last_loss = state.step, state.seconds, 1, None

    def log_train(at: int) -> None:
        nonlocal last_loss
        last_loss = state.loss_sum / max(1, state.loss_steps)
        ctx.log({"event": "train", "phase": state.phase, "step": at, "samples": stream_start + at * B,
                 "loss": last_loss, "seconds": round(state.seconds, 6)})
        state.loss_sum, state.loss_steps = 0.0, 0

    for h in hooks:
        h.on_start(c)
    try:
        while state.step < settings.steps and not c.should_stop:
            nxt = settings.steps
            for every in (settings.log_every, settings.eval_every, save_every):
                if every > 0:
                    nxt = min(nxt, (state.step // every + 1) * every)
            n = min(nxt - state.step, cap)
            order = stream.take(stream_start + state.step * B, n * B)
            t0 = time.perf_counter()
            state.loss_sum, done = engine.train(X, Y, order, B, loss_start=state.loss_sum, context=c, hooks=hooks)
            elapsed = time.perf_counter() - t0
            state.seconds += elapsed
            state.step += done
            state.loss_steps += done
            c.step, c.seconds = state.step, state.seconds
            cap = progress.next_chunk(cap, done, elapsed, settings.chunk_seconds)
            if bar is not None:
                bar.update(done)
            at = state.step
            if c.should_stop:  # a hook ended the phase after this step
                if settings.log_every and state.loss_steps:
                    log_train(at)
                break
            if done < n:
                raise DivergenceError(
                    f"training diverged: non-finite loss at step {state.step + 1} of phase "
                    f"{state.phase!r}; the last good checkpoint is {ctx.checkpoint_path}; "
                    f"lower --lr (or use a smaller --batch-size/optimizer change) and rerun")
            if at < nxt:
                continue  # inside a chunk of the boundaries below: nothing to log or save yet
            if settings.log_every and (at % settings.log_every == 0 or at == settings.steps):
                log_train(at)
            if eval_fn is not None and settings.eval_every and at % settings.eval_every == 0 \
                    and at < settings.steps:
                m = eval_fn(engine.model)
                ctx.log({"event": "eval", "phase": state.phase, "step": at,
                         "samples": stream_start + at * B, "split": eval_split, **m})
                for h in hooks:
                    h.on_eval(c, m)
                if c.should_stop:
                    if settings.log_every and state.loss_steps:
                        log_train(at)
                    break
            if save_every and at % save_every == 0 and at < settings.steps:
                ctx.save_checkpoint(checkpoint(state))
    finally:
        if bar is not None:
            bar.close()
    if state.step > first:
        loss = "" if last_loss is None else f", loss {last_loss:.4g}"
        stopped = " (stopped by a hook)" if c.should_stop and state.step < settings.steps else ""
        progress.line(ctx.progress, f"[train] {state.phase}: steps {first}-{state.step} of {settings.steps} "
                                    f"in {state.seconds - seconds0:.1f} s{loss}{stopped}")
    for h in hooks:
        h.on_end(c)
    return state


def is_finite_model(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


__all__ = ["PhaseState", "LoopSettings", "train_phase", "evaluate", "is_finite_model"]
