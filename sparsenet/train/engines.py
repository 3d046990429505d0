"""Engines run optimizer steps over a chunk of batches; the loop around them is shared.

- `TorchEngine`: autograd + any torch optimizer, any batch size; calls every hook method.
- `ClosureEngine`: optimizers whose step takes a closure (`sparsenet.optim`'s saddle-free Newton,
  Krylov SFN, Hessian-free; torch SGD/Adam too), any loss function of (model, x, y).
- `FusedEngine`: the numba online-SGD kernel (`sparsenet.kernels.online`) for MLPs of
  nn.Linear / SparseLinear layers at batch 1 with plain SGD: no per-step Python overhead,
  O(nnz) work on sparse layers. Parameters are updated in place through numpy views. It calls
  only the loop's hooks (on_start, on_eval, on_end): per-step hooks are refused.

Each engine's `train(X, Y, order, batch_size, loss_start, context=, hooks=)` runs the steps of
one chunk, calls the per-step hooks with the loop's `StepContext` (or the engine's own, when run
outside the loop) and stops after a step at which a hook called `c.stop()`.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import SparsenetError
from ..nn import SparseLinear
from .hooks import HOOK_METHODS, StepContext, check_supported


def cross_entropy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The default batch loss: mean cross-entropy of the model's logits."""
    return nn.functional.cross_entropy(model(x), y)


class TorchEngine:
    """Trains any model with torch autograd and a `torch.optim` optimizer (calls every hook method).
    `loss_fn(model, x, y)` is the batch loss (default: cross-entropy of the model's logits)."""

    name = "torch"
    supports = HOOK_METHODS

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, hooks: Sequence = (),
                 loss_fn: Callable | None = None):
        self.model = model
        self.optimizer = optimizer
        self.hooks = check_supported(hooks, self)
        self.loss_fn = loss_fn or cross_entropy
        self.context = StepContext(model, optimizer)  # used when train() is called outside the loop

    def train(self, X: torch.Tensor, Y: torch.Tensor, order: torch.Tensor, batch_size: int,
              loss_start: float = 0.0, *, context: StepContext | None = None, hooks: Sequence | None = None):
        """Steps over order (a multiple of batch_size). Returns (loss_start + the steps' losses, steps
        done): continuing the running sum keeps it identical however the loop splits a run into chunks.
        Fewer steps than asked: a non-finite loss (that step not taken), or a hook called c.stop()."""
        c = self.context if context is None else context
        hooks = self.hooks if hooks is None else hooks
        self.model.train()
        loss_sum = float(loss_start)
        steps = order.numel() // batch_size
        order = order.to(X.device)  # index on the data's device (no host round trip per batch)
        for s in range(steps):
            idx = order[s * batch_size:(s + 1) * batch_size]
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model, X[idx], Y[idx])
            value = float(loss.detach())
            if not math.isfinite(value):
                return loss_sum, s
            loss.backward()
            for h in hooks:
                h.after_backward(c)
            self.optimizer.step()
            c.step += 1
            loss_sum += value
            for h in hooks:
                h.after_step(c)
            if c.should_stop:
                return loss_sum, s + 1
        return loss_sum, steps

    def state_dict(self) -> dict:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state)


def fused_unsupported_reason(model: nn.Module, optimizer: str, momentum: float, weight_decay: float,
                             batch_size: int) -> str | None:
    """Why the fused engine cannot run this setup, or None when it can."""
    device = next((p.device for p in model.parameters() if p.device.type != "cpu"), None)
    if device is not None:
        return f"the model is on {device} (the fused engine is a CPU kernel)"
    if batch_size != 1:
        return f"batch size {batch_size} (fused engine is online, batch 1)"
    if optimizer != "sgd" or momentum != 0 or weight_decay != 0:
        return "only plain SGD (no momentum, no weight decay)"
    layers = getattr(model, "layers", None)
    if layers is None or getattr(model, "activation", None) not in ("tanh", "relu", "leaky_relu"):
        return "model is not an MLP with tanh/relu/leaky_relu"
    for layer in layers:
        if not isinstance(layer, (nn.Linear, SparseLinear)) or layer.bias is None:
            return f"layer {type(layer).__name__} without bias is not supported"
    return None


class FusedEngine:
    """Online SGD (batch 1) of an MLP through the fused numba kernel: forward, backward and update in one call."""

    name = "fused"
    supports = ("on_start", "on_eval", "on_end")  # the kernel runs a whole chunk in one call

    def __init__(self, model: nn.Module, lr: float, hooks: Sequence = ()):
        from ..kernels import online

        self._kernel = online.sgd_chunk
        self.model = model
        self.optimizer = None
        self.hooks = check_supported(hooks, self)
        self.lr = float(lr)
        self.act_kind = {"tanh": online.ACT_TANH, "relu": online.ACT_RELU,
                         "leaky_relu": online.ACT_LEAKY}[model.activation]
        self.slope = float(getattr(model, "leaky_slope", 0.01))
        self.rebind()
        self._warmup()

    compile_seconds: float | None = None  # first load/compile of the kernel in this process

    def _warmup(self) -> None:
        """Load (or compile, first time on a machine) the kernel outside any timed region."""
        if FusedEngine.compile_seconds is not None:
            return
        import time

        t0 = time.perf_counter()
        X = np.zeros((1, int(self._args[0][0])), dtype=np.float32)
        self._kernel(X, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.float32(0.0),
                     *self._args, self.act_kind, np.float32(self.slope), 0.0)
        FusedEngine.compile_seconds = time.perf_counter() - t0

    def rebind(self) -> None:
        """Take numpy views of the current parameters (call after loading a state_dict)."""
        layers = list(self.model.layers)
        sizes = [layers[0].in_features] + [l.out_features for l in layers]
        dummy = np.zeros(1, dtype=np.int64)
        Ws, Bs, crows, cols, sparse = [], [], [], [], []
        for layer in layers:
            if isinstance(layer, SparseLinear):
                Ws.append(layer.values.detach().numpy())
                crows.append(layer.crow.numpy())
                cols.append(layer.col.numpy().astype(np.int64))
                sparse.append(1)
            else:
                if not layer.weight.is_contiguous():
                    raise SparsenetError("fused engine needs contiguous weights")
                Ws.append(layer.weight.detach().view(-1).numpy())
                crows.append(dummy)
                cols.append(dummy)
                sparse.append(0)
            Bs.append(layer.bias.detach().numpy())
        self._args = (np.asarray(sizes, dtype=np.int64), np.asarray(sparse, dtype=np.int64),
                      tuple(Ws), tuple(Bs), tuple(crows), tuple(cols),
                      tuple(np.zeros(n, dtype=np.float32) for n in sizes),
                      tuple(np.zeros(n, dtype=np.float32) for n in sizes[1:]))

    def train(self, X: torch.Tensor, Y: torch.Tensor, order: torch.Tensor, batch_size: int,
              loss_start: float = 0.0, *, context: StepContext | None = None, hooks: Sequence | None = None):
        if hooks:
            check_supported(hooks, self)
        if batch_size != 1:
            raise SparsenetError(f"fused engine runs batch size 1, got {batch_size}")
        loss_sum, done = self._kernel(X.numpy(), Y.numpy(), order.numpy(), np.float32(self.lr),
                                      *self._args, self.act_kind, np.float32(self.slope), float(loss_start))
        return float(loss_sum), int(done)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        self.rebind()


class ClosureEngine(TorchEngine):
    """Optimizers whose step takes a closure: `sparsenet.optim`'s second-order methods (the closure
    returns the loss graph; the optimizer differentiates it) and torch first-order optimizers (the
    closure zeroes the gradients, runs backward and the after_backward hooks, as
    `torch.optim.Optimizer.step(closure)` expects). `loss_fn(model, x, y)` is the batch loss.

    A second-order optimizer evaluates the closure as often as it needs (Hessian rows, line
    search): there is no single backward pass to hook, so after_backward is refused for it. An
    optimizer raising `NonFiniteError` ends the chunk before that step (the loop reports the
    divergence; `diverged` holds the optimizer's message). Optimizer state saves as TorchEngine's.
    """

    name = "closure"

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable | None = None,
                 hooks: Sequence = ()):
        from ..optim.base import SecondOrderOptimizer

        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn or cross_entropy
        self.second_order = isinstance(optimizer, SecondOrderOptimizer)
        self.supports = tuple(m for m in HOOK_METHODS if not (self.second_order and m == "after_backward"))
        self.hooks = check_supported(hooks, self)
        self.context = StepContext(model, optimizer)
        self.diverged: str | None = None

    def train(self, X: torch.Tensor, Y: torch.Tensor, order: torch.Tensor, batch_size: int,
              loss_start: float = 0.0, *, context: StepContext | None = None, hooks: Sequence | None = None):
        from ..optim import NonFiniteError

        c = self.context if context is None else context
        hooks = self.hooks if hooks is None else check_supported(hooks, self)
        self.model.train()
        loss_sum = float(loss_start)
        steps = order.numel() // batch_size
        order = order.to(X.device)
        for s in range(steps):
            idx = order[s * batch_size:(s + 1) * batch_size]
            xb, yb = X[idx], Y[idx]
            if self.second_order:
                def closure():
                    return self.loss_fn(self.model, xb, yb)
            else:
                def closure():
                    self.optimizer.zero_grad(set_to_none=True)
                    loss = self.loss_fn(self.model, xb, yb)
                    loss.backward()
                    for h in hooks:
                        h.after_backward(c)
                    return loss
            try:
                loss = self.optimizer.step(closure)
            except NonFiniteError as e:
                self.diverged = f"step {c.step + 1}: {e}"
                return loss_sum, s
            value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
            if not math.isfinite(value):
                self.diverged = f"step {c.step + 1}: loss {value}"
                return loss_sum, s
            c.step += 1
            loss_sum += value
            for h in hooks:
                h.after_step(c)
            if c.should_stop:
                return loss_sum, s + 1
        return loss_sum, steps
