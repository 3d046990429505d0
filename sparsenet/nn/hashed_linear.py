"""HashedLinear: the hashing trick for a linear layer (HashedNets).

Paper: W. Chen, J. T. Wilson, S. Tyree, K. Q. Weinberger, Y. Chen, "Compressing Neural Networks with
the Hashing Trick", ICML 2015, arXiv:1504.04788.

Rule: a virtual (out, in) weight V is tied to K real weights w (the "buckets"),

    V[i, j] = xi(i, j) * w[h(i, j)],     y = x V^T + b,     dL/dw[k] = sum_{h(i,j)=k} xi(i,j) (G^T X)[i, j]

with the bucket h in [0, K) and the sign xi in {-1, +1} hashed from (seed, i, j) by the SplitMix64
formula in `sparsenet.kernels.hashed` (its docstring has the exact formula). Nothing of size out x in
is stored: the numba kernels recompute h and xi on the fly in the forward product, the input
gradient and the bucket gradient (a scatter-add), so memory is O(K + activations) and compute is
O(out * in * B), like the dense layer. ``kernel="reference"`` instead builds V with torch ops (for
checking; it allocates out x in). `to_linear()` materialises V as an nn.Linear.

Size: ``compression=c`` gives K = max(1, round(c * out * in)); ``buckets=K`` gives K directly.
Init: w ~ U(-1/sqrt(in), 1/sqrt(in)) and the bias likewise (nn.Linear's bound), so V has nn.Linear's
initial scale. ``hashed_bias=True`` ties the bias too: b[i] = xi_b(i) * w_b[h_b(i)] with its own
Kb = min(out, ceil(K / in)) buckets (the same compression as the weight), hashed from the positions
n = out * in + i that follow the weight's.

Layers in one model should get different seeds (equal seeds and sizes give equal hash patterns).
The state_dict holds ``weight`` (K,), ``bias`` (out or Kb,) and the int64 buffer ``hash_meta``
(hash version, seed, out, in, K, Kb); it loads only into a HashedLinear built with the same arguments.

Not in the sparse-layer protocol (`sparsenet.masks.layers`): that protocol is about a per-connection
mask over a dense weight (prune, grow, rewind single connections). Here every virtual connection
exists and shares its value with the others in its bucket; there is no mask to select and removing
a bucket would remove out*in/K scattered connections at once.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from ..errors import SparsenetError
from .input_checks import check_linear_input
from ..kernels import hashed as hk

KERNELS = ("auto", "numba", "reference")


def _feature_major(x: torch.Tensor) -> torch.Tensor:
    xt = x.t()
    return xt if xt.is_contiguous() else xt.contiguous()


class _HashedLinearFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, bias, n_out, seed):
        xt = _feature_major(x)                                # (in, B)
        yt = hk.forward(w, xt, bias, n_out, seed)             # (out, in) @ (in, B) -> (out, B)
        ctx.n_out, ctx.seed = n_out, seed
        ctx.save_for_backward(xt, w)
        return yt.t()                                         # (B, out) view, feature-major underneath

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        xt, w = ctx.saved_tensors
        gt = _feature_major(gy)                               # (out, B)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = hk.input_grad(w, gt, xt.shape[0], ctx.seed).t()   # (in, out) @ (out, B) -> (B, in) view
        if ctx.needs_input_grad[1]:
            gw = hk.weight_grad(gt, xt, w.numel(), ctx.seed)       # (K,) scatter-add over buckets
        if ctx.needs_input_grad[2]:
            gb = gt.sum(1)
        return gx, gw, gb, None, None


def _check_int(name: str, value, low: int, high: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SparsenetError(f"HashedLinear {name}={value!r} must be an integer in [{low}, {high}]; {fix}")
    return value


class HashedLinear(nn.Module):
    """y = x V^T + b with V hashed from K shared weights; see the module docstring."""

    def __init__(self, in_features: int, out_features: int, *, compression: float | None = None,
                 buckets: int | None = None, bias: bool = True, hashed_bias: bool = False,
                 seed: int = 0, kernel: str = "auto"):
        super().__init__()
        _check_int("in_features", in_features, 1, 1 << 40, "give the input width")
        _check_int("out_features", out_features, 1, 1 << 40, "give the output width")
        total = in_features * out_features
        if (compression is None) == (buckets is None):
            raise SparsenetError("HashedLinear needs exactly one of compression= (fraction of out*in kept) "
                                 f"and buckets= (K), got compression={compression!r}, buckets={buckets!r}")
        if compression is not None:
            if isinstance(compression, bool) or not isinstance(compression, (int, float)) \
                    or not 0 < compression <= 1:
                raise SparsenetError(f"HashedLinear compression={compression!r} must be in (0, 1] "
                                     f"(e.g. 1/64 keeps K = out*in/64 real weights)")
            buckets = max(1, round(compression * total))
        high = min(total, hk.MAX_BUCKETS)
        _check_int("buckets", buckets, 1, high, f"K is at most out*in = {total} (and 2**32)")
        _check_int("seed", seed, 0, (1 << 63) - 1, "use a non-negative int below 2**63")
        if kernel not in KERNELS:
            raise SparsenetError(f"unknown HashedLinear kernel {kernel!r}; valid: {', '.join(KERNELS)}")
        if hashed_bias and not bias:
            raise SparsenetError("HashedLinear hashed_bias=True needs bias=True")
        self.in_features, self.out_features, self.buckets = in_features, out_features, buckets
        self.seed, self.kernel, self.hashed_bias = seed, kernel, hashed_bias
        self.bias_buckets = min(out_features, math.ceil(buckets / in_features)) if hashed_bias else 0
        self.weight = nn.Parameter(torch.empty(buckets))
        self.bias = nn.Parameter(torch.empty(self.bias_buckets or out_features)) if bias else None
        self.register_buffer("hash_meta", self._meta())
        self.reset_parameters()

    def _meta(self) -> torch.Tensor:
        return torch.tensor([hk.HASH_VERSION, self.seed, self.out_features, self.in_features,
                             self.buckets, self.bias_buckets], dtype=torch.int64)

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in_features)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    @property
    def compression(self) -> float:
        return self.buckets / (self.in_features * self.out_features)

    # ---- views ----------------------------------------------------------------------------
    def virtual_bias(self) -> torch.Tensor | None:
        """The (out,) bias the layer adds: the parameter itself, or its hashed expansion."""
        if not self.hashed_bias:
            return self.bias
        n = torch.arange(self.out_features, device=self.bias.device) + self.out_features * self.in_features
        h, xi = hk.hash_positions(n, self.seed, self.bias_buckets)
        return self.bias[h] * xi.to(self.bias.dtype)

    def virtual_weight(self) -> torch.Tensor:
        """V as a dense (out, in) tensor (torch ops, differentiable in `weight`)."""
        return hk.virtual_rows(self.weight, self.seed, self.in_features, range(self.out_features))

    def to_linear(self) -> nn.Linear:
        """An nn.Linear holding V and the (expanded) bias: the same outputs, out*in stored weights."""
        lin = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                        device=self.weight.device, dtype=self.weight.dtype)
        with torch.no_grad():
            rows = max(1, (1 << 22) // self.in_features)  # build V a few MB of indices at a time
            for r in range(0, self.out_features, rows):
                span = range(r, min(self.out_features, r + rows))
                lin.weight[r:span.stop] = hk.virtual_rows(self.weight, self.seed, self.in_features, span)
            if self.bias is not None:
                lin.bias.copy_(self.virtual_bias())
        return lin

    def _backend(self, x: torch.Tensor) -> str:
        numba_ok = x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
        if self.kernel == "auto":
            return "numba" if numba_ok else "reference"
        if self.kernel == "numba" and not numba_ok:
            raise SparsenetError(f"HashedLinear kernel 'numba' runs float32/float64 on CPU, got {x.dtype} "
                                 f"on {x.device}; use kernel='auto' or 'reference'")
        return self.kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_linear_input("HashedLinear", x, self.in_features, self.weight)
        b = self.virtual_bias()
        if self._backend(x) == "reference":
            return nn.functional.linear(x, self.virtual_weight(), b)
        lead = x.shape[:-1]
        y = _HashedLinearFn.apply(x.reshape(-1, self.in_features), self.weight, b, self.out_features, self.seed)
        return y.reshape(*lead, self.out_features) if len(lead) != 1 else y

    def memory_report(self, optimizer: torch.optim.Optimizer | None = None) -> dict:
        """Bytes held for training: buckets, bias, their gradients and optimizer state; no index."""
        item = self.weight.element_size()
        params = [p for p in (self.weight, self.bias) if p is not None]
        state = 0
        if optimizer is not None:
            for p in params:
                state += sum(v.numel() * v.element_size() for v in optimizer.state.get(p, {}).values()
                             if torch.is_tensor(v) and v.numel() == p.numel())
        report = {
            "buckets": self.buckets,
            "weight_bytes": self.buckets * item,
            "grad_bytes": sum(p.numel() for p in params) * item,
            "bias_bytes": 0 if self.bias is None else self.bias.numel() * item,
            "index_bytes": 0,
            "optimizer_state_bytes": state,
        }
        report["total_bytes"] = sum(v for k, v in report.items() if k.endswith("_bytes"))
        report["dense_weight_bytes"] = self.in_features * self.out_features * item
        return report

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, buckets={self.buckets}, "
                f"compression={self.compression:.4g}, bias={self.bias is not None}, "
                f"hashed_bias={self.hashed_bias}, seed={self.seed}, kernel={self.kernel}")

    # ---- state_dict: buckets + bias + hash_meta; refuse anything hashed differently ----------
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        w, meta = state_dict.get(prefix + "weight"), state_dict.get(prefix + "hash_meta")
        if w is not None and tuple(w.shape) != (self.buckets,):
            raise SparsenetError(f"checkpoint {prefix}weight has shape {tuple(w.shape)} but this HashedLinear "
                                 f"holds K={self.buckets} buckets; build it with buckets={w.numel()} "
                                 f"(a dense (out, in) weight goes through to_linear() instead)")
        if meta is not None and meta.tolist() != self.hash_meta.tolist():
            names = ("hash version", "seed", "out_features", "in_features", "buckets", "bias buckets")
            diff = ", ".join(f"{n} {a} vs {b}" for n, a, b in zip(names, meta.tolist(), self.hash_meta.tolist())
                             if a != b)
            raise SparsenetError(f"checkpoint {prefix}hash_meta differs from this HashedLinear "
                                 f"(checkpoint vs layer: {diff}); build it with the checkpoint's arguments")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
