"""Errors of the second-order optimizers: each is a one-line `SparsenetError` a user can act on.

`ConfigError` (from `sparsenet.errors`) covers bad settings (damping <= 0, a Krylov dimension
larger than the parameter count); the classes here cover what goes wrong while stepping.
"""
from __future__ import annotations

from ..errors import SparsenetError


class ClosureError(SparsenetError):
    """The closure is missing or did not return a scalar loss tensor."""


class NonFiniteError(SparsenetError):
    """The loss, gradient, Hessian or proposed step holds NaN or inf; parameters are unchanged."""


class MixedDeviceError(SparsenetError):
    """The parameters live on more than one device (or are not floating point)."""


class TooManyParametersError(SparsenetError):
    """The exact Hessian would not fit: the message gives the memory estimate and the Krylov form."""


__all__ = ["ClosureError", "NonFiniteError", "MixedDeviceError", "TooManyParametersError"]
