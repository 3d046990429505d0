"""Contenders for one linear layer's training step: fwd, dX, dW, SGD update, and the total.

Every contender gets the same random problem: a weight (out, in) with a random pattern of the
given density, an input X (B, in) and an output gradient G (B, out). Phases:

  fwd     Y = X W^T + b
  dX      dL/dX = G W
  dW      dL/dW (dense for the dense contender; on the pattern only for sparse ones)
  update  SGD on the (live) weights
  total   the layer as a user calls it: forward, backward through autograd, optimizer.step(),
          with X and G row-major (B, features) as a dataset or loss hands them over
  total_fm  the same with X and G already feature-major (a column-major (B, features) view),
          which is what a SparseLinear receives inside an MLP of SparseLinears

Per-phase numbers of the sparse contenders time their kernels on feature-major operands; the
totals include every transpose, allocation and autograd overhead.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..kernels.backends import BACKENDS
from ..nn import SparseLinear
from ..registry import Registry
from ..train.optimizers import make_optimizer


@dataclass
class Problem:
    weight: torch.Tensor   # (out, in), zeros off the pattern
    mask: torch.Tensor     # (out, in) bool
    bias: torch.Tensor
    X: torch.Tensor        # (B, in) row-major
    G: torch.Tensor        # (B, out) row-major
    lr: float = 1e-3


def make_problem(out_f: int, in_f: int, batch: int, density: float, seed: int = 0) -> Problem:
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(out_f, in_f, generator=g) < density
    w = torch.randn(out_f, in_f, generator=g) * (1.0 / (in_f * density) ** 0.5) * mask
    w[mask & (w == 0)] = 1e-3  # an exact zero on the pattern would vanish from nonzero-based formats
    return Problem(w, mask, torch.randn(out_f, generator=g) * 0.1,
                   torch.randn(batch, in_f, generator=g), torch.randn(batch, out_f, generator=g))


def _autograd_step(module: torch.nn.Module, params, X: torch.Tensor, G: torch.Tensor, lr: float) -> Callable:
    opt = make_optimizer("sgd", params, lr=lr)
    x = X.detach().clone()  # keeps X's layout (row- or feature-major)
    x.requires_grad_(True)

    def step():
        x.grad = None
        opt.zero_grad(set_to_none=True)
        module(x).backward(G)
        opt.step()
    return step


def _feature_major(t: torch.Tensor) -> torch.Tensor:
    return t.t().contiguous().t()


def _totals(build: Callable[[], tuple[torch.nn.Module, list]], p: Problem) -> dict:
    m1, p1 = build()
    m2, p2 = build()
    return {"total": _autograd_step(m1, p1, p.X, p.G, p.lr),
            "total_fm": _autograd_step(m2, p2, _feature_major(p.X), _feature_major(p.G), p.lr)}


def dense_contender(p: Problem) -> dict[str, Callable]:
    W = p.weight.clone()
    X, G = p.X, p.G
    dW = torch.empty_like(W)

    def build():
        lin = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            lin.weight.copy_(W)
            lin.bias.copy_(p.bias)
        return lin, list(lin.parameters())
    return {"fwd": lambda: torch.nn.functional.linear(X, W, p.bias),
            "dX": lambda: G @ W,
            "dW": lambda: torch.mm(G.t(), X, out=dW),
            "update": lambda: W.add_(dW, alpha=-p.lr),
            **_totals(build, p)}


def _sparse_contender(kernel: str):
    def make(p: Problem) -> dict[str, Callable]:
        def build():
            layer = SparseLinear.from_dense(p.weight, p.bias, p.mask, kernel=kernel)
            return layer, list(layer.parameters())
        layer, _ = build()
        be, pat, v = BACKENDS.get(kernel), layer.pattern, layer.values
        XT, GT = p.X.t().contiguous(), p.G.t().contiguous()
        opt = make_optimizer("sgd", [v], lr=p.lr)
        v.grad = torch.randn_like(v)
        return {"fwd": lambda: be.spmm(pat, v, XT, layer.bias),
                "dX": lambda: be.spmm_t(pat, v, GT),
                "dW": lambda: be.sddmm(pat, GT, XT),
                "update": opt.step,
                **_totals(build, p)}
    return make


def _external_contender(name: str):
    def make(p: Problem) -> dict[str, Callable]:
        from .external import make_external

        ext = make_external(name, p.weight, p.bias)
        X, G = p.X, p.G

        def fwd_bwd():  # their backward needs the forward's saved state
            ext.forward(X)
            ext.backward(G)

        def total():
            ext.forward(X)
            ext.backward(G)
            ext.update(p.lr)
        return {"fwd": lambda: ext.forward(X), "fwd+bwd": fwd_bwd, "total": total}
    return make


LAYER_CONTENDERS: Registry[Callable[[Problem], dict]] = Registry("layer contender")
LAYER_CONTENDERS.register("dense", dense_contender)
LAYER_CONTENDERS.register("torch.sparse", _sparse_contender("torch"))
LAYER_CONTENDERS.register("sparsenet", _sparse_contender("numba"))
LAYER_CONTENDERS.register("sparseprop", _external_contender("sparseprop"))
LAYER_CONTENDERS.register("sparselab", _external_contender("sparselab"))

EXTERNAL = ("sparseprop", "sparselab")


def layer_contenders(names: list[str] | None = None) -> list[str]:
    """The named contenders, or by default every built-in one plus installed external ones."""
    if names:
        for n in names:
            LAYER_CONTENDERS.get(n)  # unknown names list the valid ones
        return list(names)
    from .external import available

    have = available()
    return ["dense", "torch.sparse", "sparsenet"] + [n for n in EXTERNAL if n in have]
