"""Exact HVP vs finite differences vs the explicit Hessian on tiny nets; Gauss-Newton; Lanczos."""
import torch
from hypothesis import given, settings, strategies as st

from sparsenet.optim import (ParamSpace, exact_hessian, fd_hessian, fd_hvp, func_hvp, gauss_newton_vp, hvp,
                             lanczos, lanczos_extremes)


def tiny_net(seed=0, dtype=torch.float64, act=torch.tanh):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(8, 3, generator=g, dtype=dtype)
    y = torch.randn(8, 2, generator=g, dtype=dtype)
    params = [torch.nn.Parameter(torch.randn(*s, generator=g, dtype=dtype)) for s in ((4, 3), (4,), (2, 4), (2,))]
    w1, b1, w2, b2 = params

    def outputs():
        return act(x @ w1.T + b1) @ w2.T + b2

    def loss_fn(z):
        return 0.5 * ((z - y) ** 2).sum() / len(x)

    return params, (lambda: loss_fn(outputs())), outputs, loss_fn


def test_exact_hvp_matches_explicit_hessian_and_finite_differences():
    params, closure, _, _ = tiny_net()
    n = sum(p.numel() for p in params)
    v = torch.randn(n, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    H = exact_hessian(closure, params)
    exact = hvp(closure, params, v)
    fd = fd_hvp(closure, params, v)
    torch.testing.assert_close(exact, H @ v, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(fd, exact, rtol=1e-6, atol=1e-8)


def test_fd_hvp_leaves_parameters_bit_identical():
    params, closure, _, _ = tiny_net(seed=3, dtype=torch.float32)
    before = [p.detach().clone() for p in params]
    fd_hvp(closure, params, torch.ones(sum(p.numel() for p in params)))
    assert all(torch.equal(a, b) for a, b in zip(before, params))


def test_fd_hvp_in_float32_is_close_with_the_relative_step():
    params, closure, _, _ = tiny_net(seed=4, dtype=torch.float32)
    n = sum(p.numel() for p in params)
    v = torch.randn(n, generator=torch.Generator().manual_seed(2))
    exact = hvp(closure, params, v)
    fd = fd_hvp(closure, params, v)
    assert float((fd - exact).norm() / exact.norm()) < 1e-2


def test_func_hvp_on_a_known_function():
    # f(w) = w0^2 w1 + w1^3: H = [[2 w1, 2 w0], [2 w0, 6 w1]]
    w = torch.tensor([1.5, -2.0], dtype=torch.float64)
    v = torch.tensor([1.0, 2.0], dtype=torch.float64)
    out = func_hvp(lambda u: u[0] ** 2 * u[1] + u[1] ** 3, w, v)
    expected = torch.tensor([[2 * -2.0, 2 * 1.5], [2 * 1.5, 6 * -2.0]], dtype=torch.float64) @ v
    torch.testing.assert_close(out, expected)


def test_exact_hessian_of_two_layer_net_matches_brute_force():
    params, closure, _, _ = tiny_net(seed=5)
    H = exact_hessian(closure, params)
    B = fd_hessian(closure, params)
    assert H.shape == (26, 26)
    torch.testing.assert_close(H, B, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(H, H.T)


def test_hessian_of_leaky_relu_net_row_loop_and_batched_agree():
    params, closure, _, _ = tiny_net(seed=6, act=lambda t: torch.nn.functional.leaky_relu(t, 0.5))
    H_batched = exact_hessian(closure, params, chunk=7)
    H_rows = exact_hessian(closure, params, chunk=1)
    torch.testing.assert_close(H_batched, H_rows)


def test_gauss_newton_product_equals_jt_hl_j():
    params, _, outputs, loss_fn = tiny_net(seed=7)
    space = ParamSpace(params)
    v = torch.randn(space.numel, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    z = outputs()
    rows = [torch.autograd.grad(z.reshape(-1)[i], params, retain_graph=True) for i in range(z.numel())]
    J = torch.stack([space.flat(list(r)) for r in rows])  # (outputs, n)
    H_L = torch.eye(z.numel(), dtype=torch.float64) / 8  # Hessian of 0.5 * sum sq / N in z
    expected = J.T @ (H_L @ (J @ v))
    torch.testing.assert_close(gauss_newton_vp(outputs, loss_fn, params, v), expected)


def test_masked_space_hessian_is_the_submatrix():
    params, closure, _, _ = tiny_net(seed=8)
    H = exact_hessian(closure, params)
    g = torch.Generator().manual_seed(4)
    masks = [torch.rand(p.shape, generator=g) > 0.5 for p in params]
    sub = exact_hessian(closure, ParamSpace(params, masks))
    live = torch.cat([m.reshape(-1) for m in masks])
    torch.testing.assert_close(sub, H[live][:, live])


def test_lanczos_recovers_extreme_eigenvalues_of_known_spectrum():
    g = torch.Generator().manual_seed(0)
    Q, _ = torch.linalg.qr(torch.randn(40, 40, generator=g, dtype=torch.float64))
    lam = torch.linspace(-3.0, 7.0, 40, dtype=torch.float64)
    A = Q @ torch.diag(lam) @ Q.T
    lo, hi = lanczos_extremes(lambda v: A @ v, 40, k=40, generator=g)
    assert abs(lo + 3.0) < 1e-8 and abs(hi - 7.0) < 1e-8
    T, Qk = lanczos(lambda v: A @ v, 40, 12, generator=g)
    torch.testing.assert_close(Qk.T @ Qk, torch.eye(12, dtype=torch.float64), atol=1e-10, rtol=0)
    torch.testing.assert_close(Qk.T @ A @ Qk, T, atol=1e-10, rtol=0)


def test_lanczos_stops_early_on_an_invariant_subspace():
    A = torch.diag(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    T, Q = lanczos(lambda v: A @ v, 4, 4, torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64))
    assert T.shape == (2, 2)
    torch.testing.assert_close(torch.linalg.eigvalsh(T), torch.tensor([1.0, 2.0], dtype=torch.float64))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_hvp_is_linear_and_symmetric(seed):
    params, closure, _, _ = tiny_net(seed=seed % 50)
    g = torch.Generator().manual_seed(seed)
    u, v = torch.randn(2, 26, generator=g, dtype=torch.float64)
    Hu, Hv = hvp(closure, params, u), hvp(closure, params, v)
    torch.testing.assert_close(u @ Hv, v @ Hu, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(hvp(closure, params, 2 * u - v), 2 * Hu - Hv, rtol=1e-9, atol=1e-10)
