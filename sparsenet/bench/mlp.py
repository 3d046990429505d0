"""Contenders for a whole MLP training step (forward, cross-entropy, backward, SGD step).

Every layer of the sparse contenders gets the same random pattern at the given sparsity (the
output layer too). Contenders:

  dense         nn.Linear layers + autograd + torch.optim.SGD (the baseline)
  torch.sparse  SparseLinear layers on the torch.sparse backend
  sparsenet     SparseLinear layers on the generated numba kernels; between layers the
                activations stay feature-major, so only the data batch is transposed
  sparsenet-fused  (batch 1 only) the fused online-SGD kernel `sparsenet train` uses for the
                seed's one-sample-at-a-time training: a whole step in compiled code
"""
from __future__ import annotations

import copy
from typing import Callable

import torch

from ..models import MLP
from ..errors import SparsenetError
from ..nn import sparsify
from ..registry import Registry
from ..train.optimizers import make_optimizer


def _model(sizes: list[int], activation: str, seed: int) -> MLP:
    torch.manual_seed(seed)
    return MLP(sizes, activation)


def _masks(model: MLP, sparsity: float, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed + 1)
    return {f"layers.{i}.weight": torch.rand(layer.weight.shape, generator=g) >= sparsity
            for i, layer in enumerate(model.layers)}


def _autograd(model: torch.nn.Module, X: torch.Tensor, Y: torch.Tensor) -> Callable:
    opt = make_optimizer("sgd", model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(X), Y).backward()
        opt.step()
    return step


def _sparse(kernel: str):
    def make(sizes, activation, sparsity, X, Y, seed):
        model = _model(sizes, activation, seed)
        model = sparsify(model, _masks(model, sparsity, seed))
        for layer in model.layers:
            layer.kernel = kernel
        return _autograd(model, X, Y)
    return make


def _dense(sizes, activation, sparsity, X, Y, seed):
    return _autograd(_model(sizes, activation, seed), X, Y)


def _fused(sizes, activation, sparsity, X, Y, seed):
    from ..train import FusedEngine

    if X.shape[0] != 1:
        raise SparsenetError(f"the fused engine trains one sample at a time; got batch {X.shape[0]}")
    model = _model(sizes, activation, seed)
    model = sparsify(model, _masks(model, sparsity, seed))
    engine = FusedEngine(copy.deepcopy(model), 1e-3)
    order = torch.zeros(1, dtype=torch.int64)
    return lambda: engine.train(X, Y, order, 1)


MLP_CONTENDERS: Registry[Callable] = Registry("MLP contender")
MLP_CONTENDERS.register("dense", _dense)
MLP_CONTENDERS.register("torch.sparse", _sparse("torch"))
MLP_CONTENDERS.register("sparsenet", _sparse("numba"))
MLP_CONTENDERS.register("sparsenet-fused", _fused)


def mlp_contenders(batch: int) -> list[str]:
    """The contenders of an MLP case: the fused batch-1 engine joins at batch 1 only."""
    names = ["dense", "torch.sparse", "sparsenet"]
    return names + (["sparsenet-fused"] if batch == 1 else [])


def mlp_case(name: str, sizes: list[int], activation: str, sparsity: float, batch: int,
             seed: int = 0) -> Callable:
    """A zero-argument training step of contender `name` on a fixed random batch."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(batch, sizes[0], generator=g)
    Y = torch.randint(0, sizes[-1], (batch,), generator=g)
    return MLP_CONTENDERS.get(name)(sizes, activation, sparsity, X, Y, seed)
