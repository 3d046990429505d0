"""Lanczos iteration (Lanczos 1950) for the extreme eigenvalues of a symmetric operator given only
by matrix-vector products, and the Krylov basis used by Krylov saddle-free Newton.

After k steps, ``Q`` (n × k, orthonormal columns spanning ``K_k(H, v0) = span{v0, Hv0, ...,
H^{k-1}v0}``) and the tridiagonal ``T = Qᵀ H Q`` (diagonal α, off-diagonal β) satisfy
``H Q = Q T + β_k q_{k+1} e_kᵀ``; the eigenvalues of T (Ritz values) approach the extreme
eigenvalues of H first. Full reorthogonalisation (twice, against all previous q) keeps Q
orthonormal in floating point, at O(n k²) cost, which is small next to k Hessian-vector products.
"""
from __future__ import annotations

from typing import Callable

import torch

from ..errors import ConfigError


def lanczos(matvec: Callable[[torch.Tensor], torch.Tensor], n: int, k: int, v0: torch.Tensor | None = None,
            *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
            device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """k Lanczos steps from `v0` (random when None): returns (T (m, m), Q (n, m)), m <= k.

    Stops early (m < k) when the Krylov space is exhausted (an invariant subspace: β ≈ 0).
    `matvec` is called with float64 vectors when dtype is float64.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"Lanczos dimension k={k!r} must be a positive integer")
    if k > n:
        raise ConfigError(f"Lanczos/Krylov dimension k={k} exceeds the {n} parameters; use k <= {n}")
    if v0 is None:
        v0 = torch.randn(n, generator=generator, dtype=dtype)
    q = v0.to(device=device, dtype=dtype)
    norm = q.norm()
    if not torch.isfinite(norm) or norm == 0:
        raise ConfigError("Lanczos start vector must be finite and non-zero")
    Q = torch.zeros((n, k), dtype=dtype, device=device)
    alpha = torch.zeros(k, dtype=dtype, device=device)
    beta = torch.zeros(k, dtype=dtype, device=device)
    Q[:, 0] = q / norm
    m = k
    for j in range(k):
        w = matvec(Q[:, j]).to(dtype)
        alpha[j] = Q[:, j] @ w
        for _ in range(2):  # twice is enough (Kahan-Parlett "twice is enough")
            w = w - Q[:, :j + 1] @ (Q[:, :j + 1].T @ w)
        if j == k - 1:
            break
        b = w.norm()
        scale = alpha[: j + 1].abs().max().clamp_min(1.0)
        if b <= 1e-12 * scale:
            m = j + 1
            break
        beta[j] = b
        Q[:, j + 1] = w / b
    T = torch.diag(alpha[:m]) + torch.diag(beta[: m - 1], 1) + torch.diag(beta[: m - 1], -1)
    return T, Q[:, :m]


def lanczos_extremes(matvec: Callable[[torch.Tensor], torch.Tensor], n: int, k: int = 30,
                     v0: torch.Tensor | None = None, *, generator: torch.Generator | None = None
                     ) -> tuple[float, float]:
    """(smallest, largest) Ritz value after min(k, n) Lanczos steps: estimates of λ_min, λ_max of H."""
    T, _ = lanczos(matvec, n, min(k, n), v0, generator=generator)
    ritz = torch.linalg.eigvalsh(T)
    return float(ritz[0]), float(ritz[-1])


__all__ = ["lanczos", "lanczos_extremes"]
