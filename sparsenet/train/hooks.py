"""The one hook protocol of the training loop, and the hook every masked method uses.

A hook subclasses `Hook` and overrides any of five methods; each receives ONE `StepContext`:

    on_start(c)            before the phase's first step (c.step: steps already done, 0 unless resumed)
    after_backward(c)      after each backward pass, before the optimizer step (c.step: steps done so far)
    after_step(c)          after each optimizer step (c.step: steps done, this one included)
    on_eval(c, metrics)    after each evaluation of the loop (c.step: the step evaluated)
    on_end(c)              after the phase's last step (or the step at which a hook called c.stop())

`c.stop()` ends the phase after the current step (or evaluation). An engine runs the methods it
can call (`engine.supports`); a hook overriding any other is refused before training with one
line (`check_supported`): the fused batch-1 kernel, for instance, cannot stop after each backward.

`MaskHook` is the hook form of `sparsenet.masks.enforce_masks` (the same `zero_pruned_`
operation): it zeroes the gradients of pruned weights after backward (so momentum / Adam moments
do not build up there) and re-zeroes the weights after every optimizer step (weight decay and Adam
could otherwise move them): pruned weights stay exactly zero. Outside the loop, use
`enforce_masks` (or the handle `sparsenet.prune.prune` returns), which works in any loop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import torch
from torch import nn

from ..errors import SparsenetError
from ..masks import zero_pruned_

HOOK_METHODS = ("on_start", "after_backward", "after_step", "on_eval", "on_end")


@dataclass(eq=False)
class StepContext:
    """What every hook method receives: the model, its optimizer, the phase and its step count,
    the run context (directory, metrics log; None when an engine runs outside the loop) and the
    phase's training seconds so far (updated between chunks)."""

    model: nn.Module
    optimizer: Any = None
    phase: str = ""
    step: int = 0
    run: Any = None
    seconds: float = 0.0
    should_stop: bool = False

    def stop(self) -> None:
        """End the phase after the current step (or evaluation)."""
        self.should_stop = True


class Hook:
    """Base of every training-loop hook: all five methods are no-ops; override those you need."""

    def on_start(self, c: StepContext) -> None:
        pass

    def after_backward(self, c: StepContext) -> None:
        pass

    def after_step(self, c: StepContext) -> None:
        pass

    def on_eval(self, c: StepContext, metrics: dict) -> None:
        pass

    def on_end(self, c: StepContext) -> None:
        pass


def overridden(hook: Hook) -> list[str]:
    """The protocol methods `hook`'s class overrides."""
    return [m for m in HOOK_METHODS if getattr(type(hook), m) is not getattr(Hook, m)]


def check_supported(hooks: Iterable, engine) -> list[Hook]:
    """`hooks` as a list, after refusing (one line) a non-Hook or a hook that overrides a method the
    engine cannot call."""
    hooks = list(hooks)
    supports = getattr(engine, "supports", HOOK_METHODS)
    for h in hooks:
        if not isinstance(h, Hook):
            raise SparsenetError(f"{type(h).__name__} is not a sparsenet.train.Hook; subclass Hook and "
                                 f"override any of {', '.join(HOOK_METHODS)}")
        bad = [m for m in overridden(h) if m not in supports]
        if bad:
            raise SparsenetError(f"hook {type(h).__name__} overrides {', '.join(bad)}, which the {engine.name} "
                                 f"engine cannot call (it calls {', '.join(supports)}); use the torch engine")
    return hooks


def merge_hooks(first: Iterable, second: Iterable) -> list:
    """`first` then the hooks of `second` not already in it (each hook runs once per event)."""
    out = list(first)
    return out + [h for h in second if not any(h is o for o in out)]


class GradClip(Hook):
    """Rescale the gradients after each backward so their global 2-norm is at most `max_norm`
    (`torch.nn.utils.clip_grad_norm_`), the usual guard of recurrent nets against exploding BPTT
    gradients. Sparse layers clip their live weights' gradients only, so it is O(nnz)."""

    def __init__(self, max_norm: float):
        if not isinstance(max_norm, (int, float)) or isinstance(max_norm, bool) or not max_norm > 0:
            raise SparsenetError(f"GradClip max_norm={max_norm!r} must be a positive number")
        self.max_norm = float(max_norm)

    def after_backward(self, c: StepContext) -> None:
        torch.nn.utils.clip_grad_norm_([p for p in c.model.parameters() if p.grad is not None], self.max_norm)


class BoostDecay(Hook):
    """Decays the boost strength of every k-winners layer (any module with `update_boost_strength`,
    e.g. `sparsenet.nn.KWinners`) once per epoch: after each `steps_per_epoch` optimizer steps, as
    Ahmad & Scheinkman (2019) do. `sparsenet train` adds it to models that have such layers."""

    def __init__(self, steps_per_epoch: int):
        if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
            raise SparsenetError(f"BoostDecay steps_per_epoch={steps_per_epoch!r} must be a positive integer")
        self.steps_per_epoch = steps_per_epoch
        self.epochs_done = 0

    @staticmethod
    def wants(model: nn.Module) -> bool:
        """Whether `model` has a layer whose boost strength decays."""
        return any(callable(getattr(m, "update_boost_strength", None)) for m in model.modules())

    def after_step(self, c: StepContext) -> None:
        if c.step % self.steps_per_epoch == 0:
            self.epochs_done += 1
            for m in c.model.modules():
                if callable(getattr(m, "update_boost_strength", None)):
                    m.update_boost_strength()


class MaskHook(Hook):
    """Pruned weights get no gradient and stay exactly zero.

    A mask naming no parameter (``<layer>.weight`` of a SparseLinear) is held by the layer's
    pattern already and is skipped."""

    def __init__(self, masks: Mapping[str, torch.Tensor]):
        self.masks = dict(masks)

    @torch.no_grad()
    def after_backward(self, c: StepContext) -> None:
        params = dict(c.model.named_parameters())
        for n, m in self.masks.items():
            p = params.get(n)
            if p is not None and p.grad is not None:
                zero_pruned_(p.grad, m)

    def after_step(self, c: StepContext) -> None:
        params = dict(c.model.named_parameters())
        for n, m in self.masks.items():
            p = params.get(n)
            if p is not None:
                zero_pruned_(p, m)


class SnapshotHook(Hook):
    """Copies the model's state dict once `at` optimizer steps of the phase are done (θ_k for late
    rewinding); a phase that starts at or after `at` is copied before its first step."""

    def __init__(self, at: int):
        self.at = int(at)
        self.state: dict | None = None

    def _take(self, c: StepContext) -> None:
        self.state = {k: v.detach().clone() for k, v in c.model.state_dict().items()}

    def on_start(self, c: StepContext) -> None:
        if c.step >= self.at:
            self._take(c)

    def after_step(self, c: StepContext) -> None:
        if c.step == self.at and self.state is None:
            self._take(c)


__all__ = ["HOOK_METHODS", "BoostDecay", "GradClip", "Hook", "MaskHook", "SnapshotHook", "StepContext", "check_supported", "merge_hooks",
           "overridden"]
