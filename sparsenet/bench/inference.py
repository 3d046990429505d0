"""Contenders for inference with a pruned MLP: one forward under ``torch.no_grad()``.

Every contender holds the same model: an MLP (e.g. LeNet-300-100, 784-300-100-10) whose every
layer is magnitude-pruned to the given sparsity (`sparsenet.prune`, layerwise). Contenders:

  dense          the pruned model as is: nn.Linear layers with zeros in them (what a user has
                 after pruning with masks and nothing else)
  torch.sparse   `sparsify` with SparseLinear layers on the torch.sparse backend
  sparsenet      `sparsify(model, masks)`: SparseLinear layers on the generated numba kernels
  sparsenet-checkpoint  the sparsified model written with `sparsenet.save` and read back with
                 `sparsenet.load` (the compact checkpoint a user ships), timed as loaded
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import torch

from ..models import MLP
from ..registry import Registry

CONTENDERS = ("dense", "torch.sparse", "sparsenet", "sparsenet-checkpoint")


def pruned_mlp(sizes: list[int], sparsity: float, seed: int = 0) -> tuple[MLP, dict[str, torch.Tensor]]:
    """A freshly initialised MLP magnitude-pruned layerwise to `sparsity`, and its masks."""
    from ..prune import prune

    torch.manual_seed(seed)
    model = MLP(sizes, "relu").eval()
    handle = prune(model, "magnitude", sparsity, enforce=False)
    return model, {k: v.clone() for k, v in handle.items()}


def _forward(model: torch.nn.Module, X: torch.Tensor) -> Callable:
    def run():
        with torch.no_grad():
            return model(X)
    run.model = model  # what is being timed, for inspection
    return run


def _sparse(kernel: str):
    def make(model: MLP, masks: dict, X: torch.Tensor) -> Callable:
        import copy

        from ..nn import sparsify

        m = sparsify(copy.deepcopy(model), masks)
        for layer in m.layers:
            layer.kernel = kernel
        return _forward(m, X)
    return make


def _checkpoint(model: MLP, masks: dict, X: torch.Tensor) -> Callable:
    import copy

    from ..nn import sparsify
    from ..nn.checkpoint import load, save

    with tempfile.TemporaryDirectory() as tmp:
        path = save(sparsify(copy.deepcopy(model), masks), Path(tmp) / "model.pt")
        loaded = load(path).eval()
    return _forward(loaded, X)


INFERENCE_CONTENDERS: Registry[Callable] = Registry("inference contender")
INFERENCE_CONTENDERS.register("dense", lambda model, masks, X: _forward(model, X))
INFERENCE_CONTENDERS.register("torch.sparse", _sparse("torch"))
INFERENCE_CONTENDERS.register("sparsenet", _sparse("numba"))
INFERENCE_CONTENDERS.register("sparsenet-checkpoint", _checkpoint)


def inference_cases(sizes: list[int], sparsity: float, batch: int, seed: int = 0) -> tuple[dict[str, Callable], dict]:
    """{contender: zero-argument forward} on one fixed batch, and facts about the model (nnz).

    Every contender is checked to compute the dense model's output before it is timed."""
    model, masks = pruned_mlp(sizes, sparsity, seed)
    X = torch.randn(batch, sizes[0], generator=torch.Generator().manual_seed(seed))
    cases = {n: INFERENCE_CONTENDERS.get(n)(model, masks, X) for n in CONTENDERS}
    ref = cases["dense"]()
    for n, fn in cases.items():
        torch.testing.assert_close(fn(), ref, rtol=1e-4, atol=1e-4, msg=lambda m: f"{n}: {m}")
    return cases, {"nnz": int(sum(int(m.sum()) for m in masks.values())),
                   "weights": sum(m.numel() for m in masks.values())}
