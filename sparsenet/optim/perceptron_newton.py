"""The seed's "fast net": a finite-difference Newton method for a single-layer perceptron, built
from the pseudo-inverse of the inputs and the inverse of the activation.

Model ``Y = σ(X̃ Wᵀ)`` with ``X̃ = [X, 1]`` (bias as a last column), targets T (e.g. one-hot).
One step:

    Z  = X̃ Wᵀ                                  pre-activations           (N, C)
    D  = (σ(Z + r) − σ(Z)) / r                  finite-difference σ'(Z), r = 1e-9 as the seed
    Z* = Z − (σ(Z) − T) / D                     elementwise Newton step for σ(z) = t
    W  = (X̃⁺ Z*)ᵀ                               least squares through the pseudo-inverse

For an invertible σ the Newton iteration on each ``σ(z) = t`` converges to ``Z* = σ⁻¹(T)`` (for a
piecewise-linear σ such as leaky ReLU, in at most two steps), so the method is "invert the
activation, then solve a linear least-squares problem for the weights".

Assumptions (it is not a general optimizer):

1. **one layer**: the weights enter only through ``Z = X̃ Wᵀ``, so fitting Z* is a linear
   least-squares problem; with a hidden layer there is no such pseudo-inverse;
2. **an invertible activation** with ``σ'(z) ≠ 0`` (tanh, sigmoid, leaky ReLU with slope > 0; not
   ReLU) and targets inside its range (tanh/sigmoid cannot reach 0/1 targets exactly: they are
   clipped to ``clip`` inside the range);
3. it minimises ``‖X̃Wᵀ − Z*‖²`` in **pre-activation** space, which equals the squared output
   error only when the system is solved exactly (N ≤ inputs + 1, independent rows); otherwise it
   is a differently weighted fit;
4. **float64**: with r = 1e-9 the difference ``σ(z + r) − σ(z)`` vanishes in float32 (its ε is
   1.2e-7), so inputs are converted to float64.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from .errors import NonFiniteError

_ACTIVATIONS: dict[str, tuple[Callable, tuple[float, float]]] = {
    "tanh": (torch.tanh, (-1.0, 1.0)),
    "sigmoid": (torch.sigmoid, (0.0, 1.0)),
    "leaky_relu": (None, (float("-inf"), float("inf"))),  # filled with the slope below
}


def _activation(name: str, slope: float) -> tuple[Callable, tuple[float, float]]:
    if name not in _ACTIVATIONS:
        raise ConfigError(f"activation {name!r} is not invertible or not supported; valid: {', '.join(_ACTIVATIONS)}")
    if name == "leaky_relu":
        if not slope > 0:
            raise ConfigError(f"leaky_relu slope={slope!r} must be > 0 for the activation to be invertible")
        return (lambda z: F.leaky_relu(z, slope)), _ACTIVATIONS[name][1]
    return _ACTIVATIONS[name]


def perceptron_forward(X: torch.Tensor, W: torch.Tensor, activation: str = "leaky_relu", slope: float = 0.5) -> torch.Tensor:
    """σ([X, 1] Wᵀ): W is (C, inputs + 1), its last column the bias."""
    sigma, _ = _activation(activation, slope)
    X = X.to(torch.float64)
    return sigma(torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], 1) @ W.to(torch.float64).T)


def perceptron_fd_newton(X: torch.Tensor, T: torch.Tensor, W: torch.Tensor | None = None, steps: int = 3,
                         activation: str = "leaky_relu", slope: float = 0.5, r: float = 1e-9,
                         clip: float = 1e-3) -> tuple[torch.Tensor, list[float]]:
    """`steps` finite-difference Newton steps (module docstring); returns (W, mean squared error per step).

    X (N, inputs), T (N, C) targets; W (C, inputs + 1) start (zeros when None). The error list
    starts with the error of the starting W.
    """
    if X.ndim != 2 or T.ndim != 2 or len(X) != len(T):
        raise ConfigError(f"X {tuple(X.shape)} and T {tuple(T.shape)} must be (N, inputs) and (N, classes)")
    if not r > 0:
        raise ConfigError(f"finite-difference step r={r!r} must be > 0")
    sigma, (lo, hi) = _activation(activation, slope)
    X64 = torch.cat([X.to(torch.float64), torch.ones(len(X), 1, dtype=torch.float64)], 1)
    T64 = T.to(torch.float64)
    if lo > float("-inf"):
        T64 = T64.clamp(lo + clip, hi - clip)
    W = torch.zeros(T.shape[1], X64.shape[1], dtype=torch.float64) if W is None else W.to(torch.float64).clone()
    pinv = torch.linalg.pinv(X64)  # (inputs + 1, N), computed once: the inputs do not change
    errors = [float(((sigma(X64 @ W.T) - T.to(torch.float64)) ** 2).mean())]
    for _ in range(steps):
        Z = X64 @ W.T
        D = (sigma(Z + r) - sigma(Z)) / r
        if bool((D == 0).any()):
            raise NonFiniteError("the finite-difference slope of the activation is 0 (saturated or float32); "
                                 "use float64 inputs, a larger r, or a non-saturating activation")
        Zt = Z - (sigma(Z) - T64) / D
        W = (pinv @ Zt).T
        if not bool(torch.isfinite(W).all()):
            raise NonFiniteError("the perceptron Newton step produced NaN/inf weights")
        errors.append(float(((sigma(X64 @ W.T) - T.to(torch.float64)) ** 2).mean()))
    return W, errors


__all__ = ["perceptron_fd_newton", "perceptron_forward"]
