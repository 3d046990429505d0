"""The three products of a sparse linear layer, one implementation per backend.

Layout: activations are *feature-major* ``(features, B)`` so that each nonzero touches one
contiguous run of B numbers. For W (out, in) with pattern P:

    spmm    Y^T  = W   X^T (+ bias)     (out, in) @ (in, B)  -> (out, B)
    spmm_t  dX^T = W^T G^T              (in, out) @ (out, B) -> (in, B)
    spmm_t_rows  dX = the same product written row-major (B, in), for a row-major input
    sddmm   dW   = (G^T X)|P            (out, B) x (in, B)   -> (nnz,)   only on the pattern
    linear  y = x W^T + b               (B, in) -> (B, out)  inference: no autograd, any input layout
    backward  (dX, dW) as autograd needs them: the two above, or for 2..4 columns one fused pass (numba)

Backends (registry ``BACKENDS``):
  numba      generated, batch-tiled CPU kernels (`codegen`); float32/float64; the default on CPU
  torch      torch.sparse CSR: ``sparse.mm`` and ``sampled_addmm`` (cuSPARSE on CUDA, MKL on CPU)
  reference  plain index_add over (row, col): slow, obvious, the oracle for the others
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from ..errors import SparsenetError
from ..registry import Registry
from .codegen import FUSED_WIDTHS, NARROW, SCATTER_WIDTHS, TILE, narrow_name, scatter_width
from .codegen_panels import PANEL_MIN
from .cpu import l2_bytes
from .pattern import CSRPattern
from .tuning import KernelChoice


class Backend:
    """Stateless apart from caches; one registered instance per name, which copies and pickles
    as that instance (a module holding its backend deep-copies and saves normally)."""
    name = "?"

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_registered, (self.name,))

    def spmm(self, p: CSRPattern, values, xt, bias):  # pragma: no cover - interface
        raise NotImplementedError

    def spmm_t(self, p: CSRPattern, values, gt):  # pragma: no cover - interface
        raise NotImplementedError

    def sddmm(self, p: CSRPattern, gt, xt):  # pragma: no cover - interface
        raise NotImplementedError

    def spmm_t_rows(self, p: CSRPattern, values, gt):
        """dX as a contiguous (B, in) tensor; backends without a fused kernel transpose spmm_t's."""
        return self.spmm_t(p, values, gt).t().contiguous()

    def backward(self, p: CSRPattern, values, gt, xt, need_dx: bool, need_dw: bool, rows_out: bool):
        """(dX, dW values) for the output gradient gt (out, B) and the saved input xt (in, B);
        None where not needed. dX is (B, in): contiguous with `rows_out`, else a view of (in, B)."""
        gx = gv = None
        if need_dx:
            gx = self.spmm_t_rows(p, values, gt) if rows_out else self.spmm_t(p, values, gt).t()
        if need_dw:
            gv = self.sddmm(p, gt, xt)
        return gx, gv

    def linear(self, p: CSRPattern, values, x, bias, relu: bool = False):
        """y = x W^T + b for x (B, in) without autograd (inference): a (B, out) tensor; with
        `relu`, relu(y), clamped in place in the fresh result."""
        y = self.spmm(p, values, self.feature_major(x), bias).t()
        return y.relu_() if relu else y

    def feature_major(self, x):
        """(B, F) -> contiguous (F, B): free for a transposed view, one transposed copy otherwise."""
        from .layout import feature_major

        return feature_major(x)


BACKENDS: Registry[Backend] = Registry("kernel backend")


def _registered(name: str) -> Backend:
    return BACKENDS.get(name)


_NP_DTYPE = {torch.float32: np.float32, torch.float64: np.float64}

# Below this many multiply-adds a kernel runs serially: waking the thread pool costs ~10-50 us.
PARALLEL_MIN_WORK = 1 << 16

# Batches of PANEL_MIN columns and more: the tiled product or its panel-by-panel form
# (`codegen_panels._panel_source`), the same numbers either way. "auto" times both on the first calls
# per pattern and batch size (`tuning.KernelChoice`); "always" / "never" fix the choice (tests, A/B).
PANELS = "auto"


def _tiled_candidates(B: int, rows_out: bool) -> tuple[str, ...]:
    """The tiled kernels that can compute a B-column product (B > NARROW), fastest unknown.

    They compute the same sums in the same order, so which one runs changes only the speed:
    `spmm`, its panel-by-panel form from PANEL_MIN columns on (unless PANELS = "never"; only it
    with "always"), and for a row-major result (`rows_out`) also `spmm_tout`, which writes that
    layout itself instead of a transposed copy afterwards."""
    if PANELS == "always" and B >= PANEL_MIN:
        return ("spmm_panel",)
    names = ("spmm",) + (("spmm_panel",) if B >= PANEL_MIN and PANELS != "never" else ())
    return (("spmm_tout",) + names) if rows_out else names


def sddmm_uses_panels(K: int, B: int, itemsize: int) -> bool:
    """Whether dW's SDDMM runs on 64-column panels of X^T (`codegen_panels._sddmm_panel_source`).

    Decided by shape and cache size, not by timing: the panel sums round differently, and a
    result must not depend on a measurement. Panels when X^T (K x B) fills the L2 of one core
    and one panel fits in half of it: 4096², 2-core Intel Xeon with 2 MiB L2, 2026-12-03, dW at
    B = 128 9.3 -> 5.8 ms (density 0.1), at B = 256 30.5 -> 12.5 ms (benchmarks/panel_products.py).
    A 1 MiB-L2 CPU (AMD EPYC Zen 4) keeps the whole-row kernel for 4096-wide layers: not measured
    there. PANELS = "never" / "always" forces the choice."""
    if PANELS != "auto":
        return PANELS == "always" and B >= PANEL_MIN
    if B < PANEL_MIN:
        return False
    l2 = l2_bytes()
    return l2 > 0 and K * B * itemsize >= l2 and 2 * K * TILE * itemsize <= l2


def _kernel(k, name: str, work: int):
    """The parallel kernel (its pool sized by torch.get_num_threads()) or, for small work, the serial one."""
    if work < PARALLEL_MIN_WORK:  # decided before any thread bookkeeping: small calls are the
        return getattr(k, name + "_serial")  # ones where a microsecond shows
    if _pool_threads() == 1:
        return getattr(k, name + "_serial")
    return getattr(k, name)


def _pool_threads() -> int:
    """Size numba's pool as torch's (torch.set_num_threads / --threads) and return it."""
    import numba

    threads = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    return threads


class NumbaBackend(Backend):
    """The generated kernels (`codegen`) behind numpy views: index arrays and parameters are
    viewed once per pattern, outputs are numpy buffers, so a call costs a few microseconds of
    Python around the kernel (most of a small layer's time at batch 1)."""
    name = "numba"

    def __init__(self):
        self._k = None

    @property
    def k(self):
        if self._k is None:
            from .codegen import load

            self._k = load()
        return self._k

    def _product(self, p, transpose: bool, v, d, b, rows_out: bool = False) -> np.ndarray:
        """W (or W^T, values `v` in its order) @ d (K, B) -> numpy (rows, B), or (B, rows) with `rows_out`.

        Kernel by batch size: 1 -> the matrix-vector kernel ((rows, 1) and (1, rows) are one
        vector), 2..NARROW -> one tile of 2, 4, 8 or 16 columns, larger -> one of the tiled
        kernels, which all compute the same sums (`_tiled_candidates`)."""
        rows, B = (p.in_features if transpose else p.out_features), d.shape[1]
        ptr, idx = self._np(p, transpose, B == 1)
        args = (ptr, idx, v, d, v[:1] if b is None else b, b is not None)
        if B > NARROW:
            names = _tiled_candidates(B, rows_out)
            if len(names) == 1:
                return self._tiled(names[0], rows, args, rows_out)
            key = ("tiled", transpose, B, rows_out, d.dtype.str)
            choice = p._cache.get(key)
            if choice is None:
                label = (f"{'W^T' if transpose else 'W'} {p.out_features}x{p.in_features} @ B={B}"
                         + (" -> row-major" if rows_out else ""))
                choice = p._cache[key] = KernelChoice(names, label)
            return choice.run(lambda n: self._tiled(n, rows, args, rows_out))
        out = np.empty((rows, B), d.dtype)
        dn, on = (d.reshape(-1), out.reshape(-1)) if B == 1 else (d, out)
        _kernel(self.k, "spmv" if B == 1 else narrow_name(B), idx.size * B)(*args[:3], dn, *args[4:], on,
                                                                          d.dtype.type(0))
        if rows_out:
            return out.reshape(B, rows) if B == 1 else np.ascontiguousarray(out.T)  # small: B <= 16
        return out

    def _tiled(self, name: str, rows: int, args, rows_out: bool) -> np.ndarray:
        """One tiled kernel; its (rows, B) result transposed by the blocked transpose when the
        caller wants (B, rows) and the kernel does not write that layout itself."""
        d = args[3]
        B = d.shape[1]
        out = np.empty((B, rows) if name == "spmm_tout" else (rows, B), d.dtype)
        _kernel(self.k, name, args[1].size * B)(*args, out, d.dtype.type(0))
        if rows_out and name != "spmm_tout":
            t = np.empty((B, rows), d.dtype)
            _kernel(self.k, "transpose", out.size)(out, t)
            return t
        return out

    @staticmethod
    def _np(p, transpose: bool, narrow: bool):
        """numpy views of W's (or W^T's) (row pointer, index) arrays, made once per pattern.

        `narrow`: uint16 indices where they fit, for batch 1, which is bound by memory traffic:
        6 instead of 8 bytes per weight (an 840k-weight layer: 0.39 -> 0.31 ms, AMD EPYC)."""
        key = ("np", transpose, narrow)
        if key not in p._cache:
            ptr, idx = (p.tcrow, p.trow) if transpose else (p.crow, p.col)
            idx = idx.numpy()
            if narrow and (p.out_features if transpose else p.in_features) <= 1 << 16:
                idx = idx.astype(np.uint16)
            p._cache[key] = (ptr.numpy(), idx)
        return p._cache[key]

    @staticmethod
    def _param(p, key, t):
        """A numpy view of parameter t (None stays None), remade when t or its storage is replaced;
        in-place updates (an optimizer step) keep it valid."""
        if t is None:
            return None
        hit = p._cache.get(key)
        if hit is None or hit[0] is not t or hit[1] != t.data_ptr():
            hit = p._cache[key] = (t, t.data_ptr(), t.detach().numpy())
        return hit[2]

    def _values_t(self, p, values):
        """The values in W^T's order, gathered now (so never stale after an optimizer step)."""
        v = self._param(p, "values", values)
        out = np.empty(p.nnz, v.dtype)
        _kernel(self.k, "gather", p.nnz * 16)(v, p.cached("np_perm", p.tperm.numpy), out)
        return out

    def feature_major(self, x):
        xt = x.t()
        if xt.is_contiguous():
            return xt
        if not (x.is_contiguous() and x.dim() == 2 and x.dtype in (torch.float32, torch.float64)
                and x.device.type == "cpu"):
            return xt.contiguous()
        out = np.empty((x.shape[1], x.shape[0]), _NP_DTYPE[x.dtype])
        _kernel(self.k, "transpose", x.numel())(x.detach().numpy(), out)
        return torch.from_numpy(out)

    def spmm(self, p, values, xt, bias):
        return torch.from_numpy(self._product(p, False, self._param(p, "values", values), xt.numpy(),
                                              self._param(p, "bias", bias)))

    def linear(self, p, values, x, bias, relu: bool = False):
        if x.shape[0] == 1 and x.is_contiguous():
            d = x.numpy().T  # a (1, in) row is its own (in, 1) column
        else:
            d = self.feature_major(x).detach().numpy()
        y = self._product(p, False, self._param(p, "values", values), d, self._param(p, "bias", bias))
        if relu:  # by the same split of rows as the product, so each thread clamps what it wrote
            _kernel(self.k, "relu", y.size)(y.reshape(-1))
        return torch.from_numpy(y.T)  # (B, out), feature-major underneath like the training path

    def spmm_t(self, p, values, gt):
        if gt.shape[1] == 1:
            return torch.from_numpy(self._spmv_t(p, values, gt).reshape(-1, 1))
        if gt.shape[1] <= SCATTER_WIDTHS[-1]:
            return torch.from_numpy(self._scatter_t(p, values, gt, False)[0])
        return torch.from_numpy(self._product(p, True, self._values_t(p, values), gt.numpy(), None))

    def spmm_t_rows(self, p, values, gt):
        if gt.shape[1] == 1:  # (in, 1) and (1, in) are the same vector
            return torch.from_numpy(self._spmv_t(p, values, gt).reshape(1, -1))
        if gt.shape[1] <= SCATTER_WIDTHS[-1]:
            return torch.from_numpy(self._scatter_t(p, values, gt, True)[0])
        return torch.from_numpy(self._product(p, True, self._values_t(p, values), gt.numpy(), None, rows_out=True))

    def backward(self, p, values, gt, xt, need_dx, need_dw, rows_out):
        if not (need_dx and need_dw and gt.shape[1] in FUSED_WIDTHS):
            return super().backward(p, values, gt, xt, need_dx, need_dw, rows_out)
        out, dw = self._scatter_t(p, values, gt, rows_out, xt)  # 2..4 columns: dX and dW in one pass
        gx = torch.from_numpy(out)
        return (gx if rows_out else gx.t()), torch.from_numpy(dw)

    def _scatter_t(self, p, values, gt, rows_out: bool, xt=None):
        """(dX, None) for batches 2..NARROW: W's rows scattered into dX's rows
        (`codegen_scatter._scatter_t_source`), written (in, B) or, with `rows_out`, (B, in); like
        batch 1, no W^T-order values are gathered. With `xt` (2..4 columns) the same pass also
        computes dW: (dX, dW)."""
        ptr, idx = self._np(p, False, True)
        g = gt.numpy()
        B = g.shape[1]
        out = np.empty((B, p.in_features) if rows_out else (p.in_features, B), g.dtype)
        v, zero = self._param(p, "values", values), g.dtype.type(0)
        if xt is None:
            _kernel(self.k, f"spmm_t_scatter{scatter_width(B)}", p.nnz * B)(ptr, idx, v, g, out, rows_out, zero)
            return out, None
        dw = np.empty(p.nnz, g.dtype)
        _kernel(self.k, f"backward_fused{B}", 2 * p.nnz * B)(ptr, idx, v, g, xt.numpy(), dw, out, rows_out, zero)
        return out, dw

    def _spmv_t(self, p, values, gt):
        # batch 1: W's rows scattered into x's positions, no transposed values needed
        ptr, idx = self._np(p, False, True)
        g = gt.numpy().reshape(-1)
        out = np.empty(p.in_features, g.dtype)
        _kernel(self.k, "spmv_t", p.nnz)(ptr, idx, self._param(p, "values", values), g, out, g.dtype.type(0))
        return out

    def sddmm(self, p, gt, xt):
        ptr, idx = self._np(p, False, False)
        g = gt.numpy()
        out = np.empty(p.nnz, g.dtype)
        if sddmm_uses_panels(xt.shape[0], xt.shape[1], g.itemsize):
            _pool_threads()  # the parallel build for any thread count: see codegen_panels._sddmm_panel_source
            kernel = self.k.sddmm_panel
        elif p.nnz * gt.shape[1] < PARALLEL_MIN_WORK:
            kernel = self.k.sddmm_serial
        else:
            # the parallel build even for one thread: built with reassociation, the serial and
            # parallel builds may vectorise a short dot differently (B = 3: up to 5e-7 apart), and
            # the result must not depend on the thread count
            _pool_threads()
            kernel = self.k.sddmm
        kernel(ptr, idx, g, xt.numpy(), out, g.dtype.type(0))
        return torch.from_numpy(out)


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
