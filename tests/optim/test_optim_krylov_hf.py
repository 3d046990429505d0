"""Krylov saddle-free Newton and Hessian-free Newton-CG."""
import pytest
import torch

from sparsenet.optim import HessianFreeNewton, KrylovSaddleFreeNewton, SaddleFreeNewton, conjugate_gradient


def quadratic(eigs, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = len(eigs)
    V, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    A = V @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ V.T
    b = torch.randn(n, generator=g, dtype=torch.float64)
    w = torch.nn.Parameter(torch.randn(n, generator=g, dtype=torch.float64))
    return w, A, b, V, (lambda: 0.5 * w @ A @ w + b @ w)


@pytest.mark.parametrize("hvp", ["exact", "fd"])
def test_krylov_with_full_dimension_equals_exact_sfn(hvp):
    eigs = [4.0, -1.5, 0.3, -0.7, 2.0, 9.0]
    w, A, b, V, closure = quadratic(eigs, seed=3)
    w0 = w.detach().clone()
    SaddleFreeNewton([w], damping=0.01).step(closure)
    exact = w.detach().clone()
    w.data = w0.clone()
    KrylovSaddleFreeNewton([w], k=6, damping=0.01, hvp=hvp).step(closure)
    tol = 1e-9 if hvp == "exact" else 1e-5
    torch.testing.assert_close(w.detach(), exact, rtol=tol, atol=tol)


def test_krylov_subspace_step_escapes_a_saddle():
    # At w = (0, 1e-3, 0) on f = ½(x² − y² + z²), the gradient points along y (negative curvature):
    # the k=1 Krylov step moves y away from 0 (descent), where Newton would jump to the saddle.
    w = torch.nn.Parameter(torch.tensor([0.0, 1e-3, 0.0], dtype=torch.float64))
    f = lambda: 0.5 * (w[0] ** 2 - w[1] ** 2 + w[2] ** 2)  # noqa: E731
    opt = KrylovSaddleFreeNewton([w], k=1, damping=1e-9)
    opt.step(f)
    torch.testing.assert_close(w.detach(), torch.tensor([0.0, 2e-3, 0.0], dtype=torch.float64))
    assert opt.info["ritz_min"] == pytest.approx(-1.0)


def test_krylov_stops_at_a_stationary_point():
    w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = KrylovSaddleFreeNewton([w], k=2)
    opt.step(lambda: (w ** 2).sum())
    assert w.tolist() == [0.0, 0.0, 0.0] and opt.info["step_size"] == 0.0


def test_conjugate_gradient_solves_spd_system_in_n_steps():
    w, A, b, _, _ = quadratic([1.0, 2.0, 3.0, 10.0], seed=4)
    x, iters, neg = conjugate_gradient(lambda v: A @ v, b, 10, 1e-12)
    torch.testing.assert_close(x, torch.linalg.solve(A, b))
    assert iters <= 5 and not neg


def test_conjugate_gradient_stops_on_negative_curvature():
    A = torch.diag(torch.tensor([-1.0, 2.0], dtype=torch.float64))
    x, iters, neg = conjugate_gradient(lambda v: A @ v, torch.tensor([1.0, 0.0], dtype=torch.float64), 10, 1e-12)
    assert neg and iters == 0 and x.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("hvp", ["exact", "fd"])
def test_hessian_free_solves_a_convex_quadratic(hvp):
    w, A, b, _, closure = quadratic([1.0, 3.0, 0.5, 8.0], seed=5)
    opt = HessianFreeNewton([w], damping=1e-5, cg_iters=20, cg_tol=1e-12, hvp=hvp)
    opt.step(closure)
    torch.testing.assert_close(w.detach(), torch.linalg.solve(A, -b), rtol=1e-4, atol=1e-4)
    assert opt.info["accepted"] and opt.info["rho"] == pytest.approx(1.0, abs=1e-3)
    assert opt.damping == pytest.approx(1e-5 * 2 / 3)  # a good model (ρ > 3/4) lowers λ


def test_hessian_free_rejects_a_step_that_raises_the_loss_and_grows_damping():
    # f = x⁴ − 0.9x² from x = 0.2: CG's model is non-convex (H < 0), the step −g·(fallback) overshoots.
    w = torch.nn.Parameter(torch.tensor([0.2], dtype=torch.float64))
    f = lambda: (w ** 4 * 50 - 0.9 * w ** 2 + 0.3 * w).sum()  # noqa: E731
    opt = HessianFreeNewton([w], lr=50.0, damping=0.01)
    before = float(f().detach())
    opt.step(f)
    assert not opt.info["accepted"] and w.tolist() == [0.2]
    assert opt.damping == pytest.approx(0.015)
    assert float(f().detach()) == before


def test_hessian_free_trains_rosenbrock():
    w = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=torch.float64))
    rosen = lambda: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2  # noqa: E731
    opt = HessianFreeNewton([w], damping=1.0)
    for _ in range(100):
        opt.step(rosen)
    assert float(rosen().detach()) < 1e-6
