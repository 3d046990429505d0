"""Checkpointing changing patterns: a SparseLinear's CSR pattern and values as plain tensors.

``model.state_dict()`` holds a SparseLinear's *dense* weight (for compatibility with nn.Linear), and
loading it gathers the values at the layer's current pattern, which is right for a fixed pattern
and wrong after dynamic sparse training has rewired the layer. `sparse_state` keeps what the layer
stores — ``crow``, ``col``, ``values``, ``bias`` — O(nnz), and `load_sparse_state_` puts it back
in place: the same ``values`` parameter object (so an optimizer built on the model can then load
its own state_dict, whose per-entry tensors have the restored sizes).
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import SparsenetError
from ..kernels.pattern import CSRPattern
from .pattern_update import _FIELDS, _swap_data
from .sparse_linear import SparseLinear


def sparse_state(model: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """``{module name: {"crow", "col", "values"[, "bias"]}}`` for every SparseLinear (cloned)."""
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, SparseLinear):
            d = {"crow": m.crow.clone(), "col": m.col.clone(), "values": m.values.detach().clone()}
            if m.bias is not None:
                d["bias"] = m.bias.detach().clone()
            out[name] = d
    return out


@torch.no_grad()
def load_sparse_state_(model: nn.Module, state: dict[str, dict[str, torch.Tensor]]) -> None:
    """Restore patterns and values written by `sparse_state` into `model`'s SparseLinear layers."""
    mods = dict(model.named_modules())
    for name, d in state.items():
        m = mods.get(name)
        if not isinstance(m, SparseLinear):
            raise SparsenetError(f"sparse state names {name!r}, which is no SparseLinear of the model")
        crow, col = d["crow"].to(m.col.device), d["col"].to(m.col.device)
        if crow.numel() != m.out_features + 1 or col.numel() != d["values"].numel():
            raise SparsenetError(f"sparse state of {name!r} does not fit a {m.out_features}x{m.in_features} layer")
        p = CSRPattern.build(m.out_features, m.in_features, crow, col)
        for f in _FIELDS:
            setattr(m, f, getattr(p, f))
        m._pattern = p
        _swap_data(m.values, d["values"].to(m.values).contiguous())
        m.values.grad = None
        if m.bias is not None and "bias" in d:
            m.bias.copy_(d["bias"])


__all__ = ["load_sparse_state_", "sparse_state"]
