"""Engines run optimizer steps over a chunk of batches; the loop around them is shared.

- `TorchEngine`: autograd + any torch optimizer, any batch size; calls the per-step hooks.
- `FusedEngine`: the numba online-SGD kernel (`sparsenet.kernels.online`) for MLPs of
  nn.Linear / SparseLinear layers at batch 1 with plain SGD: no per-step Python overhead,
  O(nnz) work on sparse layers. Parameters are updated in place through numpy views.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..errors import SparsenetError
from ..nn import SparseLinear


class TorchEngine:
    """Trains any model with torch autograd and a `torch.optim` optimizer (calls the hooks per step)."""

    name = "torch"

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, hooks: Sequence = ()):
        self.model = model
        self.optimizer = optimizer
        self.hooks = list(hooks)

    def train(self, X: torch.Tensor, Y: torch.Tensor, order: torch.Tensor, batch_size: int,
              loss_start: float = 0.0):
        """Steps over order (a multiple of batch_size). Returns (loss_start + the steps' losses, steps
        done): continuing the running sum keeps it identical however the loop splits a run into chunks."""
        self.model.train()
        loss_sum = float(loss_start)
        steps = order.numel() // batch_size
        order = order.to(X.device)  # index on the data's device (no host round trip per batch)
        for s in range(steps):
            idx = order[s * batch_size:(s + 1) * batch_size]
            self.optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(self.model(X[idx]), Y[idx])
            value = float(loss.detach())
            if not math.isfinite(value):
                return loss_sum, s
            loss.backward()
            for h in self.hooks:
                h.after_backward(self.model)
            self.optimizer.step()
            for h in self.hooks:
                h.after_step(self.model)
            loss_sum += value
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

    def __init__(self, model: nn.Module, lr: float):
        from ..kernels import online

        self._kernel = online.sgd_chunk
        self.model = model
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
              loss_start: float = 0.0):
        if batch_size != 1:
            raise SparsenetError(f"fused engine runs batch size 1, got {batch_size}")
        loss_sum, done = self._kernel(X.numpy(), Y.numpy(), order.numpy(), np.float32(self.lr),
                                      *self._args, self.act_kind, np.float32(self.slope), float(loss_start))
        return float(loss_sum), int(done)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        self.rebind()
