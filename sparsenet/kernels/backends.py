"""The three products of a sparse linear layer, one implementation per backend.

Layout: activations are *feature-major* ``(features, B)`` so that each nonzero touches one
contiguous run of B numbers. For W (out, in) with pattern P:

    spmm    Y^T  = W   X^T (+ bias)     (out, in) @ (in, B)  -> (out, B)
    spmm_t  dX^T = W^T G^T              (in, out) @ (out, B) -> (in, B)
    spmm_t_rows  dX = the same product written row-major (B, in), for a row-major input
    sddmm   dW   = (G^T X)|P            (out, B) x (in, B)   -> (nnz,)   only on the pattern

Backends (registry ``BACKENDS``):
  numba      generated, batch-tiled CPU kernels (`codegen`); float32/float64; the default on CPU
  torch      torch.sparse CSR: ``sparse.mm`` and ``sampled_addmm`` (cuSPARSE on CUDA, MKL on CPU)
  reference  plain index_add over (row, col): slow, obvious, the oracle for the others
"""
from __future__ import annotations

import warnings

import torch

from ..errors import SparsenetError
from ..registry import Registry
from .pattern import CSRPattern


class Backend:
    name = "?"

    def spmm(self, p: CSRPattern, values, xt, bias):  # pragma: no cover - interface
        raise NotImplementedError

    def spmm_t(self, p: CSRPattern, values, gt):  # pragma: no cover - interface
        raise NotImplementedError

    def sddmm(self, p: CSRPattern, gt, xt):  # pragma: no cover - interface
        raise NotImplementedError

    def spmm_t_rows(self, p: CSRPattern, values, gt):
        """dX as a contiguous (B, in) tensor; backends without a fused kernel transpose spmm_t's."""
        return self.spmm_t(p, values, gt).t().contiguous()


BACKENDS: Registry[Backend] = Registry("kernel backend")



# Below this many multiply-adds a kernel runs serially: waking the thread pool costs ~10-50 us.
PARALLEL_MIN_WORK = 1 << 16


def pool_threads() -> int:
    """Threads the numba kernels may use: torch's setting, capped by numba's pool."""
    import numba

    return max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))


def _kernel(k, name: str, work: int):
    """The parallel kernel (its pool sized by torch.get_num_threads()) or, for small work, the serial one."""
    import numba

    threads = pool_threads()
    if threads == 1 or work < PARALLEL_MIN_WORK:
        return getattr(k, name + "_serial")
    numba.set_num_threads(threads)
    return getattr(k, name)


class NumbaBackend(Backend):
    name = "numba"

    def __init__(self):
        self._k = None

    @property
    def k(self):
        if self._k is None:
            from .codegen import load

            self._k = load()
        return self._k

    def _product(self, name, rows, ptr, idx, perm, values, d, bias, transposed_out=False):
        # (rows, K) CSR @ (K, B) -> (rows, B), or (B, rows), through one of the generated spmm kernels
        out = torch.empty((d.shape[1], rows) if transposed_out else (rows, d.shape[1]), dtype=d.dtype)
        v = values.detach().numpy()
        b = bias.detach().numpy() if bias is not None else v[:1]
        _kernel(self.k, name, idx.numel() * d.shape[1])(
            ptr.numpy(), idx.numpy(), perm.numpy(), v, d.numpy(), b, bias is not None, out.numpy(),
            d.numpy().dtype.type(0))
        return out

    def spmm(self, p, values, xt, bias):
        return self._product("spmm", p.out_features, p.crow, p.col, p.col, values, xt, bias)

    def spmm_t(self, p, values, gt):
        return self._product("spmm_perm", p.in_features, p.tcrow, p.trow, p.tperm, values, gt, None)

    def spmm_t_rows(self, p, values, gt):
        return self._product("spmm_perm_tout", p.in_features, p.tcrow, p.trow, p.tperm, values, gt, None,
                             transposed_out=True)

    def sddmm(self, p, gt, xt):
        out = torch.empty(p.nnz, dtype=gt.dtype)
        _kernel(self.k, "sddmm", p.nnz * gt.shape[1])(
            p.crow.numpy(), p.col.numpy(), gt.numpy(), xt.numpy(), out.numpy(), gt.numpy().dtype.type(0))
        return out


class TorchSparseBackend(Backend):
    """torch.sparse used as well as it can be: CSR @ dense for both products (dense @ CSR is
    ~15x slower), a W^T CSR whose values are refreshed by one gather per call, and
    ``sampled_addmm`` so the weight gradient is computed on the pattern only."""
    name = "torch"

    @staticmethod
    def _csr(*args, **kw):
        with warnings.catch_warnings():  # "CSR support is in beta": once per process is plenty
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(*args, **kw)

    def _w(self, p, values):
        col = p.cached("col64", lambda: p.col.long())
        return self._csr(p.crow, col, values.detach(), (p.out_features, p.in_features), check_invariants=False)

    def spmm(self, p, values, xt, bias):
        y = torch.sparse.mm(self._w(p, values), xt)
        return y if bias is None else y.add_(bias.detach()[:, None])

    def spmm_t(self, p, values, gt):
        trow = p.cached("trow64", lambda: p.trow.long())
        tperm = p.cached("tperm64", lambda: p.tperm.long())
        wt = self._csr(p.tcrow, trow, values.detach()[tperm], (p.in_features, p.out_features), check_invariants=False)
        return torch.sparse.mm(wt, gt)

    def sddmm(self, p, gt, xt):
        pat = self._w(p, gt.new_zeros(p.nnz))
        return torch.sparse.sampled_addmm(pat, gt, xt.t(), beta=0.0).values()


class ReferenceBackend(Backend):
    name = "reference"

    def spmm(self, p, values, xt, bias):
        row, col = p.cached("row64", p.row), p.cached("col64", lambda: p.col.long())
        y = xt.new_zeros(p.out_features, xt.shape[1]).index_add_(0, row, xt[col] * values.detach()[:, None])
        return y if bias is None else y + bias.detach()[:, None]

    def spmm_t(self, p, values, gt):
        row, col = p.cached("row64", p.row), p.cached("col64", lambda: p.col.long())
        return gt.new_zeros(p.in_features, gt.shape[1]).index_add_(0, col, gt[row] * values.detach()[:, None])

    def sddmm(self, p, gt, xt):
        row, col = p.cached("row64", p.row), p.cached("col64", lambda: p.col.long())
        return (gt[row] * xt[col]).sum(1)


for _b in (NumbaBackend(), TorchSparseBackend(), ReferenceBackend()):
    BACKENDS.register(_b.name, _b)


def backend_for(name: str, device: torch.device, dtype: torch.dtype) -> Backend:
    """Resolve "auto" (numba on CPU for float32/float64, torch.sparse elsewhere) and check support."""
    if name == "auto":
        name = "numba" if device.type == "cpu" and dtype in (torch.float32, torch.float64) else "torch"
    backend = BACKENDS.get(name)
    if name == "numba" and (device.type != "cpu" or dtype not in (torch.float32, torch.float64)):
        raise SparsenetError(f"kernel backend 'numba' runs float32/float64 on CPU, got {dtype} on {device}; "
                             f"use kernel='torch' (torch.sparse) or 'auto'")
    return backend
