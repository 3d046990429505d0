"""A fixed CSR sparsity pattern and its transpose, shared by every backend.

W (out, in) keeps nnz entries. Row-major CSR: ``crow`` (out+1, int64), ``col`` (nnz, int32). The
transpose W^T (in, out) is stored as its own CSR over the *same* value array: ``tcrow`` (in+1),
``trow`` (nnz, int32: the row of W of each entry, in column order) and ``tperm`` (nnz, int32: the
position of that entry in W's value array). Kernels read ``values[tperm[j]]``, so after an optimizer
step nothing has to be refreshed. Memory: 12 bytes of index per live weight (+ 8 per row/column).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..errors import SparsenetError

INDEX_LIMIT = 2**31 - 1


@dataclass
class CSRPattern:
    out_features: int
    in_features: int
    crow: torch.Tensor
    col: torch.Tensor
    tcrow: torch.Tensor
    trow: torch.Tensor
    tperm: torch.Tensor
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, out_features: int, in_features: int, crow: torch.Tensor, col: torch.Tensor) -> "CSRPattern":
        if max(out_features, in_features) > INDEX_LIMIT:
            raise SparsenetError(f"layer {out_features}x{in_features} is too large for int32 indices "
                                 f"(limit {INDEX_LIMIT} per dimension)")
        crow = torch.as_tensor(crow).to(torch.int64).contiguous()
        col = torch.as_tensor(col).to(torch.int32).contiguous()
        counts = crow[1:] - crow[:-1]
        # Stable sort by column keeps rows ascending inside each column of W^T.
        tperm = torch.sort(col, stable=True).indices
        row = torch.repeat_interleave(torch.arange(out_features, dtype=torch.int32, device=col.device), counts)
        trow = row[tperm].contiguous()
        tcrow = torch.zeros(in_features + 1, dtype=torch.int64, device=col.device)
        tcrow[1:] = torch.cumsum(torch.bincount(col.long(), minlength=in_features), 0)
        return cls(out_features, in_features, crow, col, tcrow, trow, tperm.to(torch.int32).contiguous())

    @property
    def nnz(self) -> int:
        return self.col.numel()

    def row(self) -> torch.Tensor:
        """Row index of each nonzero (int64, nnz): computed on demand, not stored."""
        counts = self.crow[1:] - self.crow[:-1]
        return torch.repeat_interleave(torch.arange(self.out_features, device=self.crow.device), counts)

    def to(self, device: torch.device | str) -> "CSRPattern":
        move = {k: getattr(self, k).to(device) for k in ("crow", "col", "tcrow", "trow", "tperm")}
        return CSRPattern(self.out_features, self.in_features, **move)

    def index_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.crow, self.col, self.tcrow, self.trow, self.tperm))

    def cached(self, key: str, make):
        """Derived index tensors some backends need (e.g. int64 copies for torch.sparse)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]
