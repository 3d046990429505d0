"""The seed's perceptron finite-difference Newton, compared with the general saddle-free Newton."""
import pytest
import torch

from sparsenet.errors import ConfigError
from sparsenet.optim import NonFiniteError, SaddleFreeNewton, perceptron_fd_newton, perceptron_forward


def problem(n=20, d=30, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    T = torch.nn.functional.one_hot(torch.randint(0, c, (n,), generator=g), c).double()
    return X, T


def test_leaky_relu_solvable_system_is_fit_exactly_in_two_steps():
    X, T = problem()  # 20 samples, 31 unknowns per output: exactly solvable
    W, errors = perceptron_fd_newton(X, T, steps=2, activation="leaky_relu", slope=0.5)
    assert errors[0] > 0.1 and errors[-1] < 1e-12
    torch.testing.assert_close(perceptron_forward(X, W, "leaky_relu", 0.5), T, atol=1e-6, rtol=0)


def test_one_step_from_zero_equals_inverse_activation_then_pseudo_inverse():
    # From W = 0 (Z = 0 on the positive piece, slope 1) one Newton step sets Z* = T exactly.
    X, T = problem(n=40, d=10)
    W, _ = perceptron_fd_newton(X, T, steps=1)
    Xb = torch.cat([X, torch.ones(40, 1, dtype=torch.float64)], 1)
    torch.testing.assert_close(W, (torch.linalg.pinv(Xb) @ T).T)


def test_tanh_clips_targets_inside_the_range_and_converges():
    X, T = problem(seed=1)
    _, errors = perceptron_fd_newton(X, T, steps=8, activation="tanh")
    assert errors[-1] < 1e-4  # targets clipped to [1e-3 - 1, 1 - 1e-3]: error ~ (1e-3)^2


def test_general_sfn_reaches_the_same_fit_more_slowly():
    X, T = problem(n=20, d=8, c=2, seed=2)
    _, errors = perceptron_fd_newton(X, T, steps=3)
    W = torch.nn.Parameter(torch.zeros(2, 9, dtype=torch.float64))
    closure = lambda: ((perceptron_forward(X, W) - T) ** 2).mean()  # noqa: E731
    opt = SaddleFreeNewton([W], damping=1e-6)
    sfn = [float(closure().detach())]
    for _ in range(3):
        opt.step(closure)
        sfn.append(float(closure().detach()))
    assert sfn[-1] < sfn[0]
    assert errors[-1] <= sfn[-1] + 1e-3  # pre-activation fit is within a whisker of the output-space optimum


def test_assumptions_are_enforced():
    X, T = problem()
    with pytest.raises(ConfigError, match="relu"):
        perceptron_fd_newton(X, T, activation="relu")
    with pytest.raises(ConfigError, match="slope"):
        perceptron_fd_newton(X, T, slope=0.0)
    with pytest.raises(NonFiniteError, match="slope of the activation is 0"):
        perceptron_fd_newton(X * 1e3, T, activation="sigmoid", W=torch.ones(3, 31))  # saturated
