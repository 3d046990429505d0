"""Exact Hessians of small parameter sets: full, per-block (e.g. one block per layer), restricted
to the live entries of masks, and a brute-force finite-difference Hessian to check them.

Row ``i`` of ``H`` is ``H e_i``, one exact Hessian-vector product (Pearlmutter's R-operator, as the
seed does "one row per weight"); rows are computed ``chunk`` at a time with a batched double
backward (``torch.autograd.grad(..., is_grads_batched=True)``, i.e. vmap), falling back to one row
at a time for operations vmap does not support. The result is symmetrised, ``(H + Hᵀ)/2``, to
remove rounding asymmetry before an eigendecomposition.

Memory: an ``n × n`` float64 Hessian plus its eigenvectors and ``eigh`` workspace is about
``3 · 8 · n²`` bytes (`hessian_bytes`): 2.4 GB at n = 10,000.
"""
from __future__ import annotations

from typing import Sequence

import torch

from .hvp import _zero_unused, flat_grad, fd_step
from .space import Closure, ParamSpace, call_closure, check_finite, grad_with_graph


def hessian_bytes(n: int, dtype: torch.dtype = torch.float64) -> int:
    """Approximate peak bytes of an exact n-parameter Hessian step (H, eigenvectors, workspace)."""
    return 3 * n * n * torch.finfo(dtype).bits // 8


def _rows(grads: Sequence[torch.Tensor], space: ParamSpace, chunk: int) -> torch.Tensor:
    """The (n, n) matrix whose rows are H e_i for the live entries i of `space`."""
    n = space.numel
    out = torch.empty((n, n), dtype=space.dtype, device=space.device)
    batched = True
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        eye = torch.zeros((stop - start, n), dtype=space.dtype, device=space.device)
        eye[torch.arange(stop - start), torch.arange(start, stop)] = 1.0
        if batched:
            try:
                rows = torch.autograd.grad(grads, space.params, grad_outputs=space.unflat_batched(eye),
                                           retain_graph=True, allow_unused=True, is_grads_batched=True)
                out[start:stop] = space.flat_batched(list(rows), stop - start)
                continue
            except RuntimeError:
                batched = False  # an op without a batching rule: one row at a time from here on
        for r in range(stop - start):
            row = torch.autograd.grad(grads, space.params, grad_outputs=space.unflat(eye[r]),
                                      retain_graph=True, allow_unused=True)
            out[start + r] = space.flat(list(row))
    return out


def hessian_blocks(closure: Closure, spaces: Sequence[ParamSpace], chunk: int = 256
                   ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """One closure call -> (loss, [flat gradient per block], [exact Hessian block per block]).

    The blocks are the diagonal blocks of the full Hessian for the spaces' live entries (the
    cross-block curvature is dropped, as in the seed's per-layer Hessians). Hessians are float64.
    """
    loss = call_closure(closure)
    params = [p for s in spaces for p in s.params]
    all_grads = _zero_unused(grad_with_graph(loss, params), params)
    grads, hessians, start = [], [], 0
    for s in spaces:
        gs = all_grads[start:start + len(s.params)]
        start += len(s.params)
        g = s.flat([t.detach() for t in gs]).to(torch.float64)
        check_finite(g, "gradient")
        h = _rows(gs, s, chunk).to(torch.float64)
        h = 0.5 * (h + h.T)
        check_finite(h, "Hessian")
        grads.append(g)
        hessians.append(h)
    return loss.detach(), grads, hessians


def exact_hessian(closure: Closure, params: Sequence[torch.Tensor] | ParamSpace, chunk: int = 256) -> torch.Tensor:
    """The full exact (n, n) float64 Hessian of the closure's loss over `params`' live entries."""
    space = params if isinstance(params, ParamSpace) else ParamSpace(params)
    return hessian_blocks(closure, [space], chunk)[2][0]


def fd_hessian(closure: Closure, params: Sequence[torch.Tensor] | ParamSpace, rel_step: float | None = None) -> torch.Tensor:
    """Brute-force Hessian: column j = (g(w + h e_j) − g(w − h e_j)) / 2h, symmetrised (2n closure calls).

    A reference for tests; the parameters end exactly as they started.
    """
    space = params if isinstance(params, ParamSpace) else ParamSpace(params)
    n = space.numel
    h = fd_step(float(space.values().norm()), 1.0, space.dtype, rel_step)
    saved = space.snapshot()
    cols = torch.empty((n, n), dtype=torch.float64, device=space.device)
    try:
        for j in range(n):
            e = torch.zeros(n, dtype=space.dtype, device=space.device)
            e[j] = 1.0
            space.add_(e, h)
            g_plus = flat_grad(closure, space)[1]
            space.restore(saved)
            space.add_(e, -h)
            g_minus = flat_grad(closure, space)[1]
            space.restore(saved)
            cols[:, j] = ((g_plus - g_minus) / (2.0 * h)).to(torch.float64)
    finally:
        space.restore(saved)
    return 0.5 * (cols + cols.T)


__all__ = ["hessian_bytes", "hessian_blocks", "exact_hessian", "fd_hessian"]
