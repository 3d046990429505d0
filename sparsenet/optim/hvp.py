"""Hessian-vector products: exact (Pearlmutter 1994), finite differences, and Gauss-Newton.

* Exact: ``Hv = d/dw (g(w)·v)``, the R-operator of Pearlmutter, "Fast exact multiplication by the
  Hessian" (Neural Computation 1994), by double backward; `func_hvp` does the same with
  forward-over-reverse `torch.func.jvp(torch.func.grad(f))`.
* Finite differences: ``Hv ≈ (g(w + h v) − g(w − h v)) / (2h)`` (central, error O(h²)), with
  ``h = ε^(1/3) (1 + ‖w‖) / ‖v‖``: the step is relative to the size of the weights so it is
  neither lost in rounding for large ``w`` nor swamped by it for small ``w`` (ε = machine epsilon
  of the parameters' dtype; ε^(1/3) balances truncation O(h²) against rounding O(ε/h)).
* Gauss-Newton: ``G v = Jᵀ H_L J v`` with ``J = ∂z/∂w`` the Jacobian of the outputs and ``H_L``
  the Hessian of the loss in the outputs (Schraudolph 2002, "Fast curvature matrix-vector
  products for second-order gradient descent"); positive semi-definite for a convex loss.

Each ``*_operator`` evaluates the closure once (twice per product for finite differences) and
returns ``(loss, g, matvec)`` with ``matvec: (n,) -> (n,)`` over a `ParamSpace`.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from .space import Closure, ParamSpace, call_closure, check_finite, grad_with_graph

MatVec = Callable[[torch.Tensor], torch.Tensor]


def exact_hvp_operator(closure: Closure, space: ParamSpace) -> tuple[torch.Tensor, torch.Tensor, MatVec]:
    """Loss, flat gradient and ``v -> H v`` by double backward through one closure evaluation."""
    loss = call_closure(closure)
    grads = _zero_unused(grad_with_graph(loss, space.params), space.params)
    g = space.flat([t.detach() for t in grads])
    check_finite(g, "gradient")

    def matvec(v: torch.Tensor) -> torch.Tensor:
        hv = torch.autograd.grad(grads, space.params, grad_outputs=space.unflat(v),
                                 retain_graph=True, allow_unused=True)
        return space.flat(list(hv)).to(v.dtype)

    return loss.detach(), g, matvec


def hvp(closure: Closure, params: Sequence[torch.Tensor] | ParamSpace, v: torch.Tensor) -> torch.Tensor:
    """Exact ``H v`` (flat) of the closure's loss in `params`."""
    space = params if isinstance(params, ParamSpace) else ParamSpace(params)
    return exact_hvp_operator(closure, space)[2](v)


def func_hvp(f: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Exact ``∇²f(w) v`` for a pure function of a flat vector, forward-over-reverse with torch.func."""
    return torch.func.jvp(torch.func.grad(f), (w,), (v,))[1]


def fd_step(w_norm: float, v_norm: float, dtype: torch.dtype, rel_step: float | None = None) -> float:
    """Central-difference step ``h = rel (1 + ‖w‖) / ‖v‖`` with ``rel = ε^(1/3)`` by default."""
    rel = torch.finfo(dtype).eps ** (1.0 / 3.0) if rel_step is None else rel_step
    return rel * (1.0 + w_norm) / max(v_norm, torch.finfo(dtype).tiny)


def flat_grad(closure: Closure, space: ParamSpace) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and flat gradient at the current parameters (no graph kept)."""
    loss = call_closure(closure)
    grads = grad_with_graph(loss, space.params, create_graph=False)
    return loss.detach(), space.flat(list(grads))


def fd_hvp_operator(closure: Closure, space: ParamSpace, rel_step: float | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, MatVec]:
    """Loss, gradient and ``v -> H v`` by central differences of gradients (2 closure calls each).

    The parameters are restored bit for bit after every product.
    """
    loss, g = flat_grad(closure, space)
    check_finite(g, "gradient")
    w_norm = float(space.values().norm())

    def matvec(v: torch.Tensor) -> torch.Tensor:
        v_norm = float(v.norm())
        if v_norm == 0.0:
            return torch.zeros_like(v)
        h = fd_step(w_norm, v_norm, space.dtype, rel_step)
        saved = space.snapshot()
        try:
            space.add_(v, h)
            g_plus = flat_grad(closure, space)[1]
            space.restore(saved)
            space.add_(v, -h)
            g_minus = flat_grad(closure, space)[1]
        finally:
            space.restore(saved)
        return ((g_plus - g_minus) / (2.0 * h)).to(v.dtype)

    return loss, g, matvec


def fd_hvp(closure: Closure, params: Sequence[torch.Tensor] | ParamSpace, v: torch.Tensor,
           rel_step: float | None = None) -> torch.Tensor:
    """Finite-difference ``H v`` (flat); the parameters end exactly as they started."""
    space = params if isinstance(params, ParamSpace) else ParamSpace(params)
    return fd_hvp_operator(closure, space, rel_step)[2](v)


def gauss_newton_vp(outputs_fn: Callable[[], torch.Tensor], loss_fn: Callable[[torch.Tensor], torch.Tensor],
                    params: Sequence[torch.Tensor] | ParamSpace, v: torch.Tensor) -> torch.Tensor:
    """``Jᵀ H_L J v``: `outputs_fn()` gives the outputs z(w), `loss_fn(z)` the scalar loss."""
    space = params if isinstance(params, ParamSpace) else ParamSpace(params)
    with torch.enable_grad():
        z = outputs_fn()
        # J v by the double-vjp trick: u -> Jᵀu is linear in u, so d(Jᵀu · v)/du = J v.
        u = torch.zeros_like(z, requires_grad=True)
        jt_u = _zero_unused(torch.autograd.grad(z, space.params, u, create_graph=True, allow_unused=True), space.params)
        jv = torch.autograd.grad(jt_u, u, space.unflat(v))[0]
        z0 = z.detach().requires_grad_(True)
        gl = torch.autograd.grad(loss_fn(z0), z0, create_graph=True)[0]
        h_jv = torch.autograd.grad(gl, z0, jv)[0]
        out = torch.autograd.grad(z, space.params, h_jv, allow_unused=True)
    return space.flat(list(out)).to(v.dtype)


def _zero_unused(grads, params) -> list[torch.Tensor]:
    """Replace the None gradient of a parameter the loss does not use by a differentiable zero."""
    return [torch.zeros_like(p, requires_grad=True) if g is None else g for g, p in zip(grads, params)]


__all__ = ["MatVec", "exact_hvp_operator", "hvp", "func_hvp", "fd_step", "flat_grad",
           "fd_hvp_operator", "fd_hvp", "gauss_newton_vp"]
