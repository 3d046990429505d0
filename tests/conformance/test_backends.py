"""Every registered kernel backend against the reference backend (the dense-index oracle) on a
small pattern with an empty row, at batch 1 and batch 3: the three products and the autograd
forward/backward of `sparse_linear` agree."""
import pytest
import torch

from sparsenet.kernels.autograd import sparse_linear
from sparsenet.kernels.backends import BACKENDS
from sparsenet.kernels.pattern import CSRPattern

# W (4, 5): row 2 is empty; W @ x by hand for x = 1 is the row sums 3, -1, 0, 4.5
W = torch.tensor([[1.0, 0.0, 2.0, 0.0, 0.0],
                  [0.0, -1.0, 0.0, 0.0, 0.0],
                  [0.0, 0.0, 0.0, 0.0, 0.0],
                  [0.5, 0.0, 0.0, 3.0, 1.0]])


def pattern():
    mask = W != 0
    row, col = mask.nonzero(as_tuple=True)
    crow = torch.zeros(W.shape[0] + 1, dtype=torch.int64)
    crow[1:] = torch.cumsum(torch.bincount(row, minlength=W.shape[0]), 0)
    return CSRPattern.build(*W.shape, crow, col), W[row, col].contiguous(), mask


def check_backend(name: str) -> None:
    be, ref = BACKENDS.get(name), BACKENDS.get("reference")
    p, values, mask = pattern()
    bias = torch.tensor([0.1, 0.2, 0.3, 0.4])
    torch.testing.assert_close(be.spmm(p, values, torch.ones(5, 1), None).flatten(), torch.tensor([3.0, -1.0, 0.0, 4.5]))
    for batch in (1, 3):
        g = torch.Generator().manual_seed(batch)
        xt, gt = torch.randn(5, batch, generator=g), torch.randn(4, batch, generator=g)
        torch.testing.assert_close(be.spmm(p, values, xt, bias), ref.spmm(p, values, xt, bias))
        torch.testing.assert_close(be.spmm_t(p, values, gt), ref.spmm_t(p, values, gt))
        torch.testing.assert_close(be.sddmm(p, gt, xt), ref.sddmm(p, gt, xt))
        grads = []
        for b in (be, ref):
            x = xt.t().clone().requires_grad_(True)
            v = values.clone().requires_grad_(True)
            bb = bias.clone().requires_grad_(True)
            y = sparse_linear(x, v, bb, p, backend=b)
            (y * gt.t()).sum().backward()
            grads.append((y.detach(), x.grad, v.grad, bb.grad))
        for got, want in zip(*grads):
            torch.testing.assert_close(got, want)
        torch.testing.assert_close(grads[1][0], xt.t() @ W.t() + bias)  # the reference is right too


def test_backend_contract(backend):
    if name_needs_cuda(backend):
        pytest.skip(f"backend {backend!r} needs CUDA")
    check_backend(backend)


def name_needs_cuda(name: str) -> bool:
    return "cuda" in name and not torch.cuda.is_available()
