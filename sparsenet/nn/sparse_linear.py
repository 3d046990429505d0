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
from .input_checks import check_linear_input
from ..kernels.autograd import needs_autograd, sparse_linear
from ..kernels.backends import BACKENDS, backend_for
from ..kernels.pattern import CSRPattern
from .random_pattern import erdos_renyi_csr

_PATTERN_FIELDS = ("crow", "col", "tcrow", "trow", "tperm")
_EXPORT_HINT = ("{tool} cannot trace SparseLinear's kernels: give it `sparsenet.nn.export_dense(model)` instead "
                "(a copy with plain nn.Linear layers, the same outputs); torch.compile works on the sparse model as is")


_is_exporting = getattr(torch.compiler, "is_exporting", lambda: False)  # torch < 2.5 has no such test


def _global_hooks() -> bool:
    """Whether any module-wide forward hook is registered (`torch.nn.modules.module.register_module_forward_hook`, ...)."""
    m = torch.nn.modules.module
    return bool(getattr(m, "_global_forward_hooks", None) or getattr(m, "_global_forward_pre_hooks", None))


_EAGER = None


def _sparse_linear_eager(x, values, bias, pattern, kernel):
    """The kernels behind a graph break: dynamo runs them (numba/numpy, torch.sparse CSR) eagerly.

    The disabled wrapper is built on first use under torch.compile, not at import: creating it
    imports torch._dynamo, which costs about a second at every start of a command that never compiles.
    """
    global _EAGER
    if _EAGER is None:
        _EAGER = torch.compiler.disable(sparse_linear)
    return _EAGER(x, values, bias, pattern, kernel)


class SparseLinear(nn.Module):
    """y = x W^T + b with W held as CSR; see the module docstring.

    `kernel` picks the backend ("auto": generated numba kernels on CPU, torch.sparse on CUDA;
    also "numba", "torch", "reference"); see `sparsenet.kernels.backends`.
    """

    def __init__(self, in_features: int, out_features: int, crow: torch.Tensor, col: torch.Tensor,
                 values: torch.Tensor, bias: torch.Tensor | None = None, *, kernel: str = "auto"):
        super().__init__()
        device = values.device  # the pattern lives with the values (cuda values -> cuda indices)
        crow = torch.as_tensor(crow, dtype=torch.int64).to(device).contiguous()
        col = torch.as_tensor(col).to(device).contiguous()
        if crow.numel() != out_features + 1 or int(crow[0]) != 0 or int(crow[-1]) != col.numel():
            raise SparsenetError(
                f"bad CSR row pointer for a {out_features}x{in_features} layer: need {out_features + 1} "
                f"entries from 0 to nnz={col.numel()}")
        if bool((crow[1:] < crow[:-1]).any()):
            raise SparsenetError("bad CSR row pointer: it must not decrease")
        if values.numel() != col.numel():
            raise SparsenetError(f"values has {values.numel()} entries but col has {col.numel()}")
        if col.numel() and (int(col.min()) < 0 or int(col.max()) >= in_features):
            raise SparsenetError(f"column index out of range [0, {in_features}) in SparseLinear")
        if kernel != "auto":
            BACKENDS.get(kernel)  # an unknown name fails here, listing the valid ones
        self.in_features = in_features
        self.out_features = out_features
        self.kernel = kernel
        p = CSRPattern.build(out_features, in_features, crow, col)
        for name in _PATTERN_FIELDS:
            self.register_buffer(name, getattr(p, name), persistent=False)
        self._pattern = p
        self.values = nn.Parameter(values.detach().clone().to(torch.float32).contiguous())
        if bias is None:
            self.register_parameter("bias", None)
        else:
            self.bias = nn.Parameter(bias.detach().clone().to(torch.float32).contiguous())

    @property
    def pattern(self) -> CSRPattern:
        """The CSR pattern over this module's (possibly moved) index buffers."""
        p, b = self._pattern, self._buffers  # _buffers directly: nn.Module.__getattr__ costs per call
        if p.crow is not b["crow"] or p.col is not b["col"] or p.tperm is not b["tperm"]:
            p = CSRPattern(self.out_features, self.in_features, **{name: b[name] for name in _PATTERN_FIELDS})
            self._pattern = p
        return p

    @property
    def row(self) -> torch.Tensor:
        """Row index of each live weight (int64, nnz), computed on demand."""
        return self.pattern.row()

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_dense(cls, weight: torch.Tensor, bias: torch.Tensor | None = None,
                   mask: torch.Tensor | None = None, *, kernel: str = "auto") -> "SparseLinear":
        """Keep the entries where `mask` is True (default: where weight != 0), in row-major order."""
        weight = weight.detach()
        if mask is None:
            mask = weight != 0
        if mask.shape != weight.shape or mask.dtype != torch.bool:
            raise SparsenetError(f"mask must be a bool tensor of shape {tuple(weight.shape)}, "
                                 f"got {mask.dtype} {tuple(mask.shape)}")
        out_f, in_f = weight.shape
        row, col = mask.nonzero(as_tuple=True)  # row-major order
        crow = torch.zeros(out_f + 1, dtype=torch.int64, device=weight.device)
        crow[1:] = torch.cumsum(torch.bincount(row, minlength=out_f), 0)
        return cls(in_f, out_f, crow, col, weight[row, col], bias, kernel=kernel)

    @classmethod
    def from_linear(cls, linear: nn.Linear, mask: torch.Tensor | None = None, *,
                    kernel: str = "auto") -> "SparseLinear":
        return cls.from_dense(linear.weight, linear.bias, mask, kernel=kernel)

    @classmethod
    def random(cls, in_features: int, out_features: int, density: float, *, bias: bool = True,
               generator: torch.Generator | None = None, kernel: str = "auto") -> "SparseLinear":
        """An Erdős–Rényi pattern of the given density, never allocating the dense matrix.

        The pattern comes from `erdos_renyi_csr` (time and memory O(nnz) up to density 0.25);
        values use nn.Linear's default bound 1/sqrt(fan-in) with the expected fan-in kept.
        """
        crow, col = erdos_renyi_csr(out_features, in_features, density, generator=generator)
        g = generator
        bound = 1.0 / math.sqrt(max(1.0, in_features * density))
        values = (torch.rand(col.numel(), generator=g) * 2 - 1) * bound
        b = (torch.rand(out_features, generator=g) * 2 - 1) * bound if bias else None
        return cls(in_features, out_features, crow, col, values, b, kernel=kernel)

    # ---- views ----------------------------------------------------------------------------
    @property
    def nnz(self) -> int:
        return self.col.numel()

    def mask(self) -> torch.Tensor:
        m = torch.zeros(self.out_features, self.in_features, dtype=torch.bool, device=self.col.device)
        m[self.row, self.col.long()] = True
        return m

    def to_dense(self) -> torch.Tensor:
        w = torch.zeros(self.out_features, self.in_features, dtype=self.values.dtype, device=self.values.device)
        w[self.row, self.col.long()] = self.values.detach()
        return w

    def to_linear(self) -> nn.Linear:
        lin = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                        device=self.values.device, dtype=self.values.dtype)
        with torch.no_grad():
            lin.weight.copy_(self.to_dense())
            if self.bias is not None:
                lin.bias.copy_(self.bias)
        return lin

    # ---- pattern updates (see sparsenet.nn.pattern_update) ---------------------------------
    def shrink(self, keep: torch.Tensor, *, optimizer: torch.optim.Optimizer | None = None) -> "SparseLinear":
        """Drop connections: `keep` is bool over the live values (nnz,) or dense (out, in)."""
        from .pattern_update import shrink_
        shrink_(self, keep, optimizer=optimizer)
        return self

    def grow(self, rows, cols, values: torch.Tensor | None = None, *,
             optimizer: torch.optim.Optimizer | None = None) -> "SparseLinear":
        """Add connections at (rows, cols); new values start at `values` (default 0)."""
        from .pattern_update import grow_
        grow_(self, rows, cols, values, optimizer=optimizer)
        return self

    def set_pattern(self, mask: torch.Tensor, *, optimizer: torch.optim.Optimizer | None = None) -> "SparseLinear":
        """Make the live set exactly the dense bool `mask` (grow missing at 0, drop the rest)."""
        from .pattern_update import set_pattern_
        set_pattern_(self, mask, optimizer=optimizer)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_tracing() or _is_exporting():  # jit.trace, torch.export, ONNX export
            raise SparsenetError(_EXPORT_HINT.format(
                tool="torch.jit.trace" if torch.jit.is_tracing() else "torch.export (or ONNX export)"))
        values, bias = self._parameters["values"], self._parameters["bias"]
        check_linear_input("SparseLinear", x, self.in_features, values)
        backend = self._resolved_backend(x)
        # Under torch.compile the kernels run behind a graph break; eager calls skip that wrapper (1.5 us).
        fn = _sparse_linear_eager if torch.compiler.is_compiling() else sparse_linear
        if x.dim() == 2:
            return fn(x, values, bias, self.pattern, backend)
        lead = x.shape[:-1]
        y = fn(x.reshape(-1, self.in_features), values, bias, self.pattern, backend)
        return y.reshape(*lead, self.out_features) if len(lead) != 1 else y

    def linear_relu(self, x: torch.Tensor) -> torch.Tensor:
        """relu(self(x)). At inference (no autograd needed, as under torch.no_grad) on a (B, in)
        batch, with no forward hook on this layer or on all modules, outside tracing and
        torch.compile, it is one backend call that clamps the fresh result in place: no second
        pass over the activations, no separate tensor (`MLP` calls this for its relu layers).
        Otherwise it is exactly ``torch.relu(self(x))``, so hooks see what they always saw."""
        values, bias = self._parameters["values"], self._parameters["bias"]
        if (x.dim() != 2 or type(self).forward is not SparseLinear.forward  # a subclass's own forward runs
                or self._forward_hooks or self._forward_pre_hooks or _global_hooks()
                or needs_autograd(x, values, bias) or torch.jit.is_tracing() or _is_exporting()
                or torch.compiler.is_compiling()):
            return torch.relu(self(x))
        check_linear_input("SparseLinear", x, self.in_features, values)
        return self._resolved_backend(x).linear(self.pattern, values, x, bias, relu=True)

    def _resolved_backend(self, x: torch.Tensor):
        """The kernel backend for x's device and dtype, resolved once per (kernel, device, dtype)."""
        key = (self.kernel, x.device, x.dtype)
        cached = self.__dict__.get("_backend_key")
        if cached != key:
            self.__dict__["_backend"] = backend_for(self.kernel, x.device, x.dtype)
            self.__dict__["_backend_key"] = key
        return self.__dict__["_backend"]

    def __prepare_scriptable__(self):  # torch.jit.script calls this on every submodule first
        raise SparsenetError(_EXPORT_HINT.format(tool="torch.jit.script"))

    def memory_report(self, optimizer: torch.optim.Optimizer | None = None) -> dict:
        """Bytes held for training, and bytes per live weight: value + index + gradient + state.

        The gradient counts as allocated (nnz values) even before the first backward. Optimizer
        state is read from `optimizer.state[self.values]` (e.g. momentum: 1 tensor, Adam: 2).
        """
        nnz = self.nnz
        item = self.values.element_size()
        p = self.pattern
        per_live_index = sum(getattr(p, n).element_size() for n in ("col", "trow", "tperm"))
        state = 0
        if optimizer is not None:
            st = optimizer.state.get(self.values, {})
            state = sum(v.numel() * v.element_size() for v in st.values()
                        if torch.is_tensor(v) and v.numel() == nnz)
        report = {
            "nnz": nnz,
            "values_bytes": nnz * item,
            "index_bytes": p.index_bytes(),
            "grad_bytes": nnz * item,
            "optimizer_state_bytes": state,
            "bias_bytes": 0 if self.bias is None else 2 * self.bias.numel() * item,
        }
        report["total_bytes"] = sum(v for k, v in report.items() if k.endswith("_bytes"))
        report["bytes_per_live_weight"] = (
            (report["values_bytes"] + report["grad_bytes"] + state) / max(1, nnz) + per_live_index)
        report["dense_weight_bytes"] = self.in_features * self.out_features * item
        return report

    def extra_repr(self) -> str:
        total = self.in_features * self.out_features
        return (f"in_features={self.in_features}, out_features={self.out_features}, nnz={self.nnz}, "
                f"density={self.nnz / max(1, total):.4g}, bias={self.bias is not None}, kernel={self.kernel}")

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
            w = state_dict[key].to(self.values.device)  # a CPU checkpoint into a CUDA layer, and back
            if tuple(w.shape) != (self.out_features, self.in_features):
                error_msgs.append(f"size mismatch for {key}: checkpoint {tuple(w.shape)}, "
                                  f"layer {(self.out_features, self.in_features)}")
            else:
                kept = w[self.row, self.col.long()]
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
