"""Saddle-free Newton: the exact formula on known spectra, one-step Newton, blocks, line search, refusals."""
import pytest
import torch

from sparsenet.errors import ConfigError, SparsenetError
from sparsenet.optim import (NonFiniteError, SaddleFreeNewton, TooManyParametersError, hessian_bytes, layer_groups,
                             newton_direction, sfn_direction)


def quadratic(eigs, seed=0):
    """f(w) = ½ wᵀ A w + bᵀ w with A = V diag(eigs) Vᵀ (a known spectrum)."""
    g = torch.Generator().manual_seed(seed)
    n = len(eigs)
    V, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    A = V @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ V.T
    b = torch.randn(n, generator=g, dtype=torch.float64)
    w = torch.nn.Parameter(torch.randn(n, generator=g, dtype=torch.float64))
    return w, A, b, V, (lambda: 0.5 * w @ A @ w + b @ w)


def test_sfn_direction_is_minus_v_abs_lambda_inverse_vt_g_exactly():
    eigs = [3.0, -2.0, 0.5, -0.25, 7.0]
    w, A, b, V, _ = quadratic(eigs)
    g = A @ w.detach() + b
    d, lam = sfn_direction(g, A, damping=0.0)
    expected = -V @ torch.diag(1.0 / torch.tensor(eigs, dtype=torch.float64).abs()) @ V.T @ g
    torch.testing.assert_close(d, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(lam, torch.tensor(sorted(eigs), dtype=torch.float64))


def test_optimizer_step_matches_the_formula_with_tiny_damping():
    eigs = [3.0, -2.0, 0.5, -0.25, 7.0]
    w, A, b, V, closure = quadratic(eigs, seed=1)
    w0 = w.detach().clone()
    g = A @ w0 + b
    expected = w0 - V @ torch.diag(1.0 / torch.tensor(eigs, dtype=torch.float64).abs()) @ V.T @ g
    opt = SaddleFreeNewton([w], lr=1.0, damping=1e-12)
    opt.step(closure)
    torch.testing.assert_close(w.detach(), expected, rtol=1e-9, atol=1e-9)
    assert opt.info["negative_eigs"] == 2
    assert opt.info["eig_min"] == pytest.approx(-2.0) and opt.info["eig_max"] == pytest.approx(7.0)


def test_sfn_decreases_along_negative_curvature_where_newton_goes_uphill():
    # f = ½(x² − y²) at (1, 0.1): Newton jumps to the saddle (0, 0); SFN moves away from it in y.
    w = torch.nn.Parameter(torch.tensor([1.0, 0.1], dtype=torch.float64))
    f = lambda: 0.5 * (w[0] ** 2 - w[1] ** 2)  # noqa: E731
    H = torch.diag(torch.tensor([1.0, -1.0], dtype=torch.float64))
    g = torch.tensor([1.0, -0.1], dtype=torch.float64)
    torch.testing.assert_close(newton_direction(g, H), torch.tensor([-1.0, -0.1], dtype=torch.float64))
    SaddleFreeNewton([w], damping=1e-12).step(f)
    torch.testing.assert_close(w.detach(), torch.tensor([0.0, 0.2], dtype=torch.float64))


def test_newton_solves_a_convex_quadratic_in_one_step():
    w, A, b, _, closure = quadratic([1.0, 2.0, 5.0, 10.0], seed=2)
    minimiser = torch.linalg.solve(A, -b)
    torch.testing.assert_close(w.detach() + newton_direction(A @ w.detach() + b, A), minimiser)
    for absolute in (True, False):
        w.data = torch.zeros(4, dtype=torch.float64)
        SaddleFreeNewton([w], damping=1e-12, absolute=absolute).step(closure)
        torch.testing.assert_close(w.detach(), minimiser, rtol=1e-9, atol=1e-9)


def test_block_mode_uses_one_hessian_per_group_and_drops_cross_terms():
    # f = x² + y² + 3xy couples the groups; block Newton sees only diag(2, 2): step −g/2.
    x = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    y = torch.nn.Parameter(torch.tensor([2.0], dtype=torch.float64))
    f = lambda: (x ** 2 + y ** 2 + 3 * x * y).sum()  # noqa: E731
    SaddleFreeNewton([{"params": [x]}, {"params": [y]}], damping=1e-12, hessian="block").step(f)
    # g = (2x + 3y, 2y + 3x) = (8, 7): x = 1 − 4 = −3, y = 2 − 3.5 = −1.5
    torch.testing.assert_close(x.detach(), torch.tensor([-3.0], dtype=torch.float64))
    torch.testing.assert_close(y.detach(), torch.tensor([-1.5], dtype=torch.float64))


def test_layer_groups_blocks_on_a_small_mlp_reduce_the_loss():
    from sparsenet.models import MLP
    torch.manual_seed(0)
    net = MLP([6, 5, 3], activation="leaky_relu", leaky_slope=0.5).double()
    x, y = torch.randn(20, 6, dtype=torch.float64), torch.randn(20, 3, dtype=torch.float64)
    closure = lambda: ((net(x) - y) ** 2).mean()  # noqa: E731
    opt = SaddleFreeNewton(layer_groups(net), lr=0.5, damping=0.1, hessian="block", line_search=True)
    start = float(closure())
    for _ in range(5):
        opt.step(closure)
    assert float(closure()) < 0.8 * start


def test_line_search_never_increases_the_loss():
    w = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=torch.float64))
    rosen = lambda: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2  # noqa: E731
    opt = SaddleFreeNewton([w], damping=1e-3, line_search=True)
    losses = [float(rosen())]
    for _ in range(40):
        opt.step(rosen)
        losses.append(float(rosen()))
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:]))
    assert losses[-1] < 1e-8


def test_non_finite_step_is_rejected_and_parameters_stay_unchanged():
    # f = w0 + w1²: zero curvature along w0 with g0 = 1; damping 1e-320 makes 1/δ overflow to inf.
    w = torch.nn.Parameter(torch.tensor([0.5, 2.0], dtype=torch.float64))
    opt = SaddleFreeNewton([w], damping=1e-320)
    with pytest.raises(NonFiniteError, match="unchanged"):
        opt.step(lambda: w[0] + w[1] ** 2)
    assert w.tolist() == [0.5, 2.0]
    assert opt.info["rejected"] == 1


@pytest.mark.parametrize("damping", [0.0, -1.0, float("nan"), float("inf")])
def test_damping_must_be_positive(damping):
    w = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ConfigError, match="damping"):
        SaddleFreeNewton([w], damping=damping)


def test_refuses_too_many_parameters_with_a_memory_estimate_and_the_krylov_form():
    w = torch.nn.Parameter(torch.zeros(50_000))
    with pytest.raises(TooManyParametersError) as e:
        SaddleFreeNewton([w])
    msg = str(e.value)
    assert "50,000" in msg and "60.0 GB" in msg and "KrylovSaddleFreeNewton" in msg and "\n" not in msg
    assert hessian_bytes(50_000) == 3 * 8 * 50_000 ** 2


def test_bad_hessian_mode_lists_choices():
    with pytest.raises(SparsenetError, match="full, block"):
        SaddleFreeNewton([torch.nn.Parameter(torch.zeros(2))], hessian="diag")
