"""Model conversions: masks -> SparseLinear layers (`sparsify`), back to nn.Linear (`densify`), and a
dense copy for tools that cannot trace the sparse kernels (`export_dense`)."""
from __future__ import annotations

import copy
import os

from torch import nn

from .checkpoint import load_into
from .sparse_linear import SparseLinear


def sparsify(model: nn.Module, masks) -> nn.Module:
    """Replace every nn.Linear whose `<name>.weight` has a mask by a SparseLinear, in place.

    `masks` may instead be the path of a compact checkpoint (`sparsenet.save`): its sparse layers
    replace the model's layers of the same names and everything else loads strictly
    (`sparsenet.nn.checkpoint.load_into`).
    """
    if isinstance(masks, (str, os.PathLike)):
        return load_into(model, masks)
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            key = full + ".weight"
            if isinstance(child, nn.Linear) and key in masks:
                setattr(module, child_name, SparseLinear.from_linear(child, masks[key]))
    return model


def densify(model: nn.Module) -> nn.Module:
    """Replace every SparseLinear by an equivalent nn.Linear, in place (lossless)."""
    if isinstance(model, SparseLinear):
        return model.to_linear()
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, SparseLinear):
                setattr(module, child_name, child.to_linear())
    return model


def export_dense(model: nn.Module) -> nn.Module:
    """A copy of `model` with every SparseLinear as a plain nn.Linear (zeros off the pattern), for
    torch.export / ONNX / torch.jit, which cannot trace SparseLinear's kernels; `model` is unchanged.

    >>> import torch
    >>> layer = SparseLinear.from_dense(torch.tensor([[1., 0.], [0., 2.]]))
    >>> dense = export_dense(torch.nn.Sequential(layer))
    >>> type(dense[0]).__name__, dense[0].weight.tolist()
    ('Linear', [[1.0, 0.0], [0.0, 2.0]])
    >>> torch.jit.script(dense)(torch.tensor([[3., 4.]])).tolist()
    [[3.0, 8.0]]
    """
    return densify(copy.deepcopy(model))
