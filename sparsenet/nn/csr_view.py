"""`SparseLinear` under the sparse-layer protocol (`sparsenet.masks.layers`): kind ``sparse_linear``.

The trained tensor is ``values`` (one per live connection); its mask name is ``<layer>.weight`` with
the dense ``(out, in)`` shape, the same key and shape as the nn.Linear it replaces. A mask shrinks
the CSR pattern, growing adds entries to it (`sparsenet.nn.pattern_update`); nothing dense is kept.
"""
from __future__ import annotations

import torch

from ..masks.layers import LayerView, register_layer
from .sparse_linear import SparseLinear


class CSRWeight(LayerView):
    param = "values"
    native = False

    @property
    def shape(self) -> torch.Size:
        return torch.Size((self.module.out_features, self.module.in_features))

    def dense_weight(self) -> torch.Tensor:
        return self.module.to_dense()

    def mask(self) -> torch.Tensor:
        return self.module.mask()

    def nnz(self) -> int:
        return self.module.nnz

    def shrink_(self, keep, *, optimizer=None) -> None:
        self.module.shrink(self._check("shrink", keep), optimizer=optimizer)

    def grow_(self, new, values=None, *, optimizer=None) -> None:
        new = self._check("grow", new).to(self.module.col.device) & ~self.module.mask()
        rows, cols = new.nonzero(as_tuple=True)
        vals = None if values is None else self._check("grow values", values, bool_=False).to(self.module.values)[rows, cols]
        self.module.grow(rows, cols, vals, optimizer=optimizer)

    @torch.no_grad()
    def load_dense_(self, weight) -> None:
        m = self.module
        w = self._check("load", weight, bool_=False).to(m.values)
        m.values.copy_(w[m.row, m.col.long()])

    def dense_grad(self):
        m = self.module
        g = m.values.grad
        if g is None:
            return None
        out = torch.zeros(self.shape, dtype=g.dtype, device=g.device)
        out[m.row, m.col.long()] = g.detach()
        return out


    # O(nnz): nothing dense is built
    def live_keys(self) -> torch.Tensor:
        m = self.module
        return m.row * m.in_features + m.col.long()  # CSR order: rows, then ascending columns

    def live_values(self) -> torch.Tensor:
        return self.module.values.detach()

    def live_state(self, optimizer, name: str):
        t = optimizer.state.get(self.module.values, {}).get(name) if optimizer is not None else None
        return t

    def drop_(self, drop, *, optimizer=None) -> None:
        self.module.shrink(~drop.to(self.module.col.device), optimizer=optimizer)

    def grow_keys_(self, keys, values=None, *, optimizer=None) -> None:
        n_in = self.module.in_features
        keys = keys.to(self.module.col.device)
        self.module.grow(keys // n_in, keys % n_in, values, optimizer=optimizer)


    def rewire_(self, drop, keys, values=None, *, optimizer=None) -> None:
        from .pattern_update import rewire_

        n_in = self.module.in_features
        keys = keys.to(self.module.col.device)
        rewire_(self.module, drop, keys // n_in, keys % n_in, values, optimizer=optimizer)


def _example(g: torch.Generator):
    layer = SparseLinear.random(7, 5, 0.5, generator=g)
    return layer, torch.randn(4, 7, generator=g)


register_layer("sparse_linear", SparseLinear, CSRWeight, _example)

__all__ = ["CSRWeight"]
