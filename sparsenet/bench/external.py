"""Adapters for external CPU sparse-training libraries, for benchmarking against SparseLinear.

Two contenders, each used the way its authors intend for training (their nn.Module and its
autograd, plain SGD on the Parameter that holds the live weights):

  sparseprop  PyPI `sparseprop` (IST-DASLab, "SparseProp", AVX2 + OpenMP C++ kernels).
              `sparseprop.modules.SparseLinear(dense_weight=W, bias=Parameter|None)`; the live
              weights are the Parameter `W_val` (CSR values, pattern = nonzeros of W).
  sparselab   PyPI `sparselab` 0.2.2 (PaddedCSR storage, OpenMP C++ kernels).
              `sparselab.SparseLinear(in, out, bias, sparsity, padding_ratio)`; its random initial
              pattern is replaced by `PaddedCSR.from_dense(W)` and the live weights are the Parameter
              `_values`, a zero-copy alias of the C++ value buffer (the same aliasing the library
              does in `SparseLinear._build_csr_and_parameter`).

Both take the pattern from the nonzeros of the given weight, so an on-pattern weight that is exactly
0.0 is dropped from their pattern. Both compute in float32 only. Neither library exposes a thread
setting of its own; both run OpenMP and get `torch.get_num_threads()` threads here (sparseprop's
extension binds to torch's own libgomp, which torch imports first; sparselab ships its own libgomp,
whose thread count is set to `torch.get_num_threads()` before each call).

Install (without pulling another torch build):
    pip install pybind11 wheel && pip install --no-build-isolation --no-deps sparseprop
    pip install --no-deps sparselab==0.2.2

The libraries are imported lazily, so this module imports fine without them.
"""
from __future__ import annotations

import ctypes
import glob
import importlib
import importlib.metadata
import os

import torch

from ..errors import SparsenetError

__all__ = ["ExternalContender", "available", "make_external"]

_INSTALL = {
    "sparseprop": ("sparseprop", "pip install pybind11 wheel && "
                   "pip install --no-build-isolation --no-deps sparseprop"),
    "sparselab": ("sparselab", "pip install --no-deps sparselab==0.2.2"),
}


def _import(name: str):
    """Import an external library by contender name, or raise a one-line SparsenetError."""
    if name not in _INSTALL:
        raise SparsenetError(f"unknown external contender {name!r}: choose one of "
                             f"{', '.join(sorted(_INSTALL))}")
    module, how = _INSTALL[name]
    try:
        return importlib.import_module(module)
    except Exception as e:  # ImportError, or a broken compiled extension
        raise SparsenetError(f"external contender {name!r} needs the Python package {module!r}, "
                             f"which cannot be imported ({type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else ''}); install it with: "
                             f"{how}") from None


def available() -> dict[str, str]:
    """Name -> version of the external libraries that are installed and import; others absent."""
    out: dict[str, str] = {}
    for name, (module, _) in _INSTALL.items():
        try:
            version = importlib.metadata.version(module)
        except importlib.metadata.PackageNotFoundError:
            continue
        try:
            importlib.import_module(module)
        except Exception:
            continue
        out[name] = version
    return out


class ExternalContender:
    """One external sparse linear layer y = x W^T + b, driven as one training step would be.

    forward(X) records the autograd graph (X is taken as a fresh leaf that requires grad);
    backward(G) runs the library's backward, leaving dX in `last_input_grad` and dW on the
    pattern in the library's weight Parameter; update(lr) is SGD on the live weights (and bias).
    """

    name: str = ""

    def __init__(self, module: torch.nn.Module, weight_param: torch.nn.Parameter,
                 bias_param: torch.nn.Parameter | None):
        self.module = module
        self._w = weight_param
        self._b = bias_param
        self._x: torch.Tensor | None = None
        self._y: torch.Tensor | None = None
        self.last_input_grad: torch.Tensor | None = None

    def _params(self) -> list[torch.nn.Parameter]:
        return [self._w] if self._b is None else [self._w, self._b]

    def _threads(self) -> None:
        """Match the library's thread count to torch.get_num_threads() (no-op by default)."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self._threads()
        x = X.detach().contiguous().requires_grad_(True)
        with torch.enable_grad():
            y = self.module(x)
        self._x, self._y = x, y
        return y.detach()

    def backward(self, G: torch.Tensor) -> None:
        if self._y is None:
            raise SparsenetError(f"{self.name}: backward() called without a forward() before it")
        self._threads()
        for p in self._params():
            p.grad = None  # so autograd assigns the fresh gradient instead of accumulating
        self._y.backward(G)
        self.last_input_grad = self._x.grad
        self._x = self._y = None

    @torch.no_grad()
    def update(self, lr: float) -> None:
        for p in self._params():
            if p.grad is not None:
                p.add_(p.grad, alpha=-lr)

    @property
    def weight_grad(self) -> torch.Tensor | None:
        """dL/dW on the library's own storage of the pattern (order as in that storage)."""
        return self._w.grad

    def dense_weight(self) -> torch.Tensor:
        raise NotImplementedError


class _SparseProp(ExternalContender):
    name = "sparseprop"

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        _import("sparseprop")
        from sparseprop.modules import SparseLinear

        b = None if bias is None else torch.nn.Parameter(bias.detach().clone().float().contiguous())
        module = SparseLinear(dense_weight=weight, bias=b)
        super().__init__(module, module.W_val, module.bias)
        self.version = importlib.metadata.version("sparseprop")

    def dense_weight(self) -> torch.Tensor:
        from sparseprop.modules.utils import from_csr_2d

        m = self.module
        return from_csr_2d(m.W_val.detach(), m.W_idx, shape=(m.N, m.M))


def _sparselab_libgomp(sparselab_module) -> ctypes.CDLL | None:
    """The OpenMP runtime bundled with the sparselab wheel (already loaded by its extension)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(sparselab_module.__file__)))
    for path in sorted(glob.glob(os.path.join(root, "sparselab.libs", "libgomp*.so*"))):
        try:
            lib = ctypes.CDLL(path)
            lib.omp_set_num_threads.argtypes = [ctypes.c_int]
            lib.omp_set_num_threads.restype = None
            return lib
        except (OSError, AttributeError):
            continue
    return None


class _SparseLab(ExternalContender):
    name = "sparselab"

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        sparselab = _import("sparselab")
        import numpy as np

        out_f, in_f = weight.shape
        nnz = int(torch.count_nonzero(weight))
        sparsity = min(max(1.0 - nnz / max(1, weight.numel()), 0.0), 0.999999)
        # Static pattern: no spare slots are needed (padding only serves SET/RigL growth).
        module = sparselab.SparseLinear(in_f, out_f, bias=bias is not None, sparsity=sparsity,
                                        padding_ratio=0.0)
        csr = sparselab.PaddedCSR.from_dense(weight, padding_ratio=0.0)
        module._csr = csr
        module._values = torch.nn.Parameter(torch.from_numpy(np.asarray(csr.values)))
        if bias is not None:
            with torch.no_grad():
                module.bias.copy_(bias.detach().float())
        super().__init__(module, module._values, module.bias)
        self.version = importlib.metadata.version("sparselab")
        self._omp = _sparselab_libgomp(sparselab)
        # sparselab caches W^T by id(W): drop any entry a dead PaddedCSR left under this id
        # (a documented stale-cache hazard of sparselab 0.2.2), then build ours outside timing.
        self._cache = getattr(sparselab.ops, "_transpose_cache", None)
        if self._cache is not None:
            self._cache.pop(id(csr), None)
            try:
                sparselab.ops._cached_transpose(csr)
            except Exception:
                pass
        self._csr_id = id(csr)

    def _threads(self) -> None:
        if self._omp is not None:
            self._omp.omp_set_num_threads(torch.get_num_threads())

    def dense_weight(self) -> torch.Tensor:
        return self.module._csr.to_dense()

    def __del__(self):
        cache = getattr(self, "_cache", None)
        if cache is not None:
            cache.pop(getattr(self, "_csr_id", None), None)


_CLASSES = {"sparseprop": _SparseProp, "sparselab": _SparseLab}


def make_external(name: str, weight: torch.Tensor, bias: torch.Tensor | None) -> ExternalContender:
    """Build contender `name` from a dense (out, in) float32 weight (zeros off the pattern)."""
    if name not in _CLASSES:
        raise SparsenetError(f"unknown external contender {name!r}: choose one of "
                             f"{', '.join(sorted(_CLASSES))}")
    if weight.dim() != 2:
        raise SparsenetError(f"{name}: weight must be 2-D (out, in), got shape {tuple(weight.shape)}")
    if weight.device.type != "cpu":
        raise SparsenetError(f"{name}: CPU-only library, but the weight is on {weight.device}")
    weight = weight.detach().to(torch.float32).contiguous()
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise SparsenetError(f"{name}: bias must have shape ({weight.shape[0]},), "
                             f"got {tuple(bias.shape)}")
    return _CLASSES[name](weight, bias)
