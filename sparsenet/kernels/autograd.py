"""`sparse_linear`: y = x W^T + b for a CSR weight, as a torch autograd function.

Layout trick: the kernels work feature-major, (features, B). The function returns Y^T's
transpose, a (B, out) *view* with strides (1, B); elementwise ops (bias, tanh, relu) keep those
strides, so the next SparseLinear finds x.t() already contiguous and no transpose is paid between
layers. Only a row-major input (the data batch) is transposed, once; a dense nn.Linear reads
either layout without copying (BLAS transposes for free).

Costs: forward O(nnz·B); backward O(nnz·B) for dX (through W^T's pattern) and for dW (an
SDDMM on W's pattern only); the gradient of the values is a dense vector of size nnz, so any
torch optimizer updates and keeps its state over the live weights only.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from .backends import Backend, backend_for
from .pattern import CSRPattern


class _SparseLinearFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, values, bias, pattern: CSRPattern, backend: Backend):
        xt = backend.feature_major(x)                  # (in, B)
        yt = backend.spmm(pattern, values, xt, bias)   # (out, in) @ (in, B) -> (out, B)
        ctx.pattern, ctx.backend = pattern, backend
        # a row-major input (the data batch) gets a row-major gradient: autograd would copy a
        # transposed one into x's layout before accumulating it
        ctx.rows_out = x.is_contiguous() and x.shape[0] > 1
        ctx.save_for_backward(xt, values)
        return yt.t()                                  # (B, out) view, feature-major underneath

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        xt, values = ctx.saved_tensors
        p, be = ctx.pattern, ctx.backend
        gt = be.feature_major(gy)                      # (out, B)
        gb = None
        # dX: (in, out) @ (out, B), as (B, in) written directly for a row-major input or as a view
        # of (in, B); dW: (nnz,) on the pattern only (one fused pass for a few columns: `backward`)
        gx, gv = be.backward(p, values, gt, xt, ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.rows_out)
        if ctx.needs_input_grad[2]:
            gb = gt.sum(1)
        return gx, gv, gb, None, None


def needs_autograd(x: torch.Tensor, values: torch.Tensor, bias: torch.Tensor | None) -> bool:
    """Whether y = x W^T + b must record an autograd node: grad mode on and something requiring grad."""
    return torch.is_grad_enabled() and (x.requires_grad or values.requires_grad
                                        or (bias is not None and bias.requires_grad))


def sparse_linear(x: torch.Tensor, values: torch.Tensor, bias: torch.Tensor | None, pattern: CSRPattern,
                  backend: str | Backend = "auto") -> torch.Tensor:
    """x (B, in) -> (B, out). `backend`: "auto", "numba", "torch", "reference" or a Backend."""
    if isinstance(backend, str):
        backend = backend_for(backend, x.device, x.dtype)
    if not needs_autograd(x, values, bias):
        # inference (torch.no_grad / inference_mode / frozen layer): no autograd node, nothing saved
        return backend.linear(pattern, values, x, bias)
    return _SparseLinearFn.apply(x, values, bias, pattern, backend)
