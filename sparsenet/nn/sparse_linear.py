"""SparseLinear: a linear layer that stores, computes with and updates only its live weights.

Storage is CSR: `crow` (out+1) row pointers, `col` (nnz) column indices, and the trainable
`values` (nnz). Forward, backward and any optimizer update touch O(nnz) numbers, never |W|.

Compatibility rule of the project: pruning never renames parameters. The layer's `state_dict`
therefore holds an ordinary dense `weight` (zeros off the pattern) and `bias`, so a sparse
model's state_dict loads strictly into an unpruned model of the same architecture, and a dense
state_dict loads into a SparseLinear (values are gathered at its pattern).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import SparsenetError
from ..kernels.reference import csr_linear


class SparseLinear(nn.Module):
    def __init__(self, in_features: int, out_features: int, crow: torch.Tensor, col: torch.Tensor,
                 values: torch.Tensor, bias: torch.Tensor | None = None):
        super().__init__()
        crow = torch.as_tensor(crow, dtype=torch.int64).contiguous()
        col = torch.as_tensor(col, dtype=torch.int64).contiguous()
        if crow.numel() != out_features + 1 or int(crow[0]) != 0 or int(crow[-1]) != col.numel():
            raise SparsenetError(
                f"bad CSR row pointer for a {out_features}x{in_features} layer: need {out_features + 1} "
                f"entries from 0 to nnz={col.numel()}")
        if values.numel() != col.numel():
            raise SparsenetError(f"values has {values.numel()} entries but col has {col.numel()}")
        if col.numel() and (int(col.min()) < 0 or int(col.max()) >= in_features):
            raise SparsenetError(f"column index out of range [0, {in_features}) in SparseLinear")
        self.in_features = in_features
        self.out_features = out_features
        self.register_buffer("crow", crow, persistent=False)
        self.register_buffer("col", col, persistent=False)
        counts = crow[1:] - crow[:-1]
        self.register_buffer("row", torch.repeat_interleave(torch.arange(out_features), counts),
                             persistent=False)
        self.values = nn.Parameter(values.detach().clone().to(torch.float32).contiguous())
        if bias is None:
            self.register_parameter("bias", None)
        else:
            self.bias = nn.Parameter(bias.detach().clone().to(torch.float32).contiguous())

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_dense(cls, weight: torch.Tensor, bias: torch.Tensor | None = None,
                   mask: torch.Tensor | None = None) -> "SparseLinear":
        """Keep the entries where `mask` is True (default: where weight != 0), in row-major order."""
        weight = weight.detach()
        if mask is None:
            mask = weight != 0
        if mask.shape != weight.shape or mask.dtype != torch.bool:
            raise SparsenetError(f"mask must be a bool tensor of shape {tuple(weight.shape)}, "
                                 f"got {mask.dtype} {tuple(mask.shape)}")
        out_f, in_f = weight.shape
        row, col = mask.nonzero(as_tuple=True)  # row-major order
        crow = torch.zeros(out_f + 1, dtype=torch.int64)
        crow[1:] = torch.cumsum(torch.bincount(row, minlength=out_f), 0)
        return cls(in_f, out_f, crow, col, weight[row, col], bias)

    @classmethod
    def from_linear(cls, linear: nn.Linear, mask: torch.Tensor | None = None) -> "SparseLinear":
        return cls.from_dense(linear.weight, linear.bias, mask)

    @classmethod
    def random(cls, in_features: int, out_features: int, density: float, *, bias: bool = True,
               generator: torch.Generator | None = None) -> "SparseLinear":
        """An Erdős–Rényi pattern of the given density, never allocating the dense matrix.

        Each row draws its nnz count from Binomial(in, density) and its columns without
        replacement; values use nn.Linear's default bound 1/sqrt(in) scaled to the fan-in kept.
        """
        if not 0 < density <= 1:
            raise SparsenetError(f"density {density} must be in (0, 1]")
        g = generator
        counts = torch.binomial(torch.full((out_features,), float(in_features)),
                                torch.full((out_features,), float(density)), generator=g).long()
        cols = [torch.randperm(in_features, generator=g)[: int(c)].sort().values for c in counts]
        col = torch.cat(cols) if cols else torch.zeros(0, dtype=torch.int64)
        crow = torch.zeros(out_features + 1, dtype=torch.int64)
        crow[1:] = torch.cumsum(counts, 0)
        bound = 1.0 / math.sqrt(max(1.0, in_features * density))
        values = (torch.rand(col.numel(), generator=g) * 2 - 1) * bound
        b = (torch.rand(out_features, generator=g) * 2 - 1) * bound if bias else None
        return cls(in_features, out_features, crow, col, values, b)

    # ---- views ----------------------------------------------------------------------------
    @property
    def nnz(self) -> int:
        return self.col.numel()

    def mask(self) -> torch.Tensor:
        m = torch.zeros(self.out_features, self.in_features, dtype=torch.bool)
        m[self.row, self.col] = True
        return m

    def to_dense(self) -> torch.Tensor:
        w = torch.zeros(self.out_features, self.in_features, dtype=self.values.dtype)
        w[self.row, self.col] = self.values.detach()
        return w

    def to_linear(self) -> nn.Linear:
        lin = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None)
        with torch.no_grad():
            lin.weight.copy_(self.to_dense())
            if self.bias is not None:
                lin.bias.copy_(self.bias)
        return lin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        y = csr_linear(x.reshape(-1, self.in_features), self.values, self.row, self.col,
                       self.out_features, self.bias)
        return y.reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        total = self.in_features * self.out_features
        return (f"in_features={self.in_features}, out_features={self.out_features}, nnz={self.nnz}, "
                f"density={self.nnz / max(1, total):.4g}, bias={self.bias is not None}")

    # ---- state_dict as an ordinary dense Linear ------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        destination[prefix + "weight"] = self.to_dense()
        if self.bias is not None:
            destination[prefix + "bias"] = self.bias if keep_vars else self.bias.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        key = prefix + "weight"
        if key not in state_dict:
            missing_keys.append(key)
        else:
            w = state_dict[key]
            if tuple(w.shape) != (self.out_features, self.in_features):
                error_msgs.append(f"size mismatch for {key}: checkpoint {tuple(w.shape)}, "
                                  f"layer {(self.out_features, self.in_features)}")
            else:
                kept = w[self.row, self.col]
                off = int((w != 0).sum()) - int((kept != 0).sum())
                if off:
                    error_msgs.append(f"{key} has {off} nonzero weights outside this SparseLinear's "
                                      f"pattern; build the layer with SparseLinear.from_dense instead")
                else:
                    with torch.no_grad():
                        self.values.copy_(kept)
        bkey = prefix + "bias"
        if self.bias is not None:
            if bkey in state_dict:
                with torch.no_grad():
                    self.bias.copy_(state_dict[bkey])
            else:
                missing_keys.append(bkey)
        if strict:
            for k in state_dict:
                if k.startswith(prefix) and k[len(prefix):] not in ("weight", "bias") and "." not in k[len(prefix):]:
                    unexpected_keys.append(k)


def sparsify(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Replace every nn.Linear whose `<name>.weight` has a mask by a SparseLinear, in place."""
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            key = full + ".weight"
            if isinstance(child, nn.Linear) and key in masks:
                setattr(module, child_name, SparseLinear.from_linear(child, masks[key]))
    return model


def densify(model: nn.Module) -> nn.Module:
    """Replace every SparseLinear by an equivalent nn.Linear, in place (lossless)."""
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, SparseLinear):
                setattr(module, child_name, child.to_linear())
    return model
