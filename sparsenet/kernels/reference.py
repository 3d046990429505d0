"""Plain-PyTorch O(nnz) kernels for a CSR weight, and the dense oracle they are tested against.

A sparse weight W (out, in) is held as COO-sorted-by-row arrays (row, col, values) plus the CSR
row pointer. Every operation below costs O(nnz * B), never O(out * in):

    forward  y  = x @ W^T        y[b, r]  = sum_k  values[k] * x[b, col[k]]     (row[k] == r)
    input    dx = dy @ W         dx[b, c] = sum_k  values[k] * dy[b, row[k]]    (col[k] == c)
    weight   dv = SDDMM          dv[k]    = sum_b  dy[b, row[k]] * x[b, col[k]]

`index_add_` on CPU accumulates serially per output element, so results are bit-reproducible.
The numba kernels in `sparsenet.kernels.online` must agree with these.
"""
from __future__ import annotations

import torch


class _CSRLinearFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, values, row, col, out_features: int):
        # (B, in) gathered at col -> (B, nnz) * values -> scatter-add over row -> (B, out)
        prod = x[:, col] * values
        y = x.new_zeros(x.shape[0], out_features).index_add_(1, row, prod)
        ctx.save_for_backward(x, values, row, col)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, values, row, col = ctx.saved_tensors
        gy_rows = gy[:, row]  # (B, nnz)
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = x.new_zeros(x.shape).index_add_(1, col, gy_rows * values)
        if ctx.needs_input_grad[1]:
            gv = (gy_rows * x[:, col]).sum(0)
        return gx, gv, None, None, None


def csr_linear(x: torch.Tensor, values: torch.Tensor, row: torch.Tensor, col: torch.Tensor,
               out_features: int, bias: torch.Tensor | None = None) -> torch.Tensor:
    """y = x @ W^T + bias for the sparse W given by (row, col, values); x is (B, in)."""
    y = _CSRLinearFn.apply(x, values, row, col, out_features)
    return y if bias is None else y + bias


def dense_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """The dense oracle: what csr_linear must equal when weight is the densified W."""
    return torch.nn.functional.linear(x, weight, bias)
