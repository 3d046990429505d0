"""Hand-computed criteria on tiny layers: magnitude, Taylor, SNIP, Fisher, OBD, OBS, variance,
Hebbian, gating, movement, redundancy."""
import pytest
import torch
import torch.nn.functional as F

from sparsenet.train import StepContext
from sparsenet.criteria import CRITERIA, MovementAccumulator, obs_compensate, score, units_needed, variance_fold
from sparsenet.criteria.hessian import hessian_diagonal
from sparsenet.errors import ConfigError
from sparsenet.models import MLP

W0 = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
B0 = torch.tensor([0.1, -0.2])


def one_layer():
    net = MLP([3, 2])
    with torch.no_grad():
        net.layers[0].weight.copy_(W0)
        net.layers[0].bias.copy_(B0)
    return net


def data():
    x = torch.tensor([[1.0, 0.0, 2.0], [0.5, -1.0, 1.0], [-1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    y = torch.tensor([0, 1, 1, 0])
    return x, y


def softmax_residual(x, y):
    """∂L_n/∂z for softmax cross-entropy: p_n - e_{y_n} (per example, unscaled)."""
    p = F.softmax(x @ W0.T + B0, dim=1)
    return p - F.one_hot(y, 2).float()


def test_magnitude_is_abs():
    assert torch.equal(score(one_layer(), "magnitude")["layers.0.weight"], W0.abs())


def test_taylor_and_snip_by_hand():
    x, y = data()
    g = softmax_residual(x, y).T @ x / len(x)  # (2, N) @ (N, 3): ∂(mean L)/∂W
    expect = (W0 * g).abs()
    got = score(one_layer(), "taylor", batch=(x, y))["layers.0.weight"]
    torch.testing.assert_close(got, expect)
    snip = score(one_layer(), "snip", batch=(x, y))["layers.0.weight"]
    torch.testing.assert_close(snip, expect / expect.sum())
    torch.testing.assert_close(score(one_layer(), "gating-weight", batch=(x, y))["layers.0.weight"], expect)
    torch.testing.assert_close(score(one_layer(), "movement", batch=(x, y))["layers.0.weight"], -(W0 * g))


def test_fisher_by_hand():
    x, y = data()
    r = softmax_residual(x, y)  # per-example gradient of W is outer(r_n, x_n)
    per = r[:, :, None] * x[:, None, :]
    expect = 0.5 * (per ** 2).mean(0) * W0 ** 2
    torch.testing.assert_close(score(one_layer(), "fisher", batch=(x, y))["layers.0.weight"], expect)


def test_gating_and_taylor_neuron_by_hand():
    x, y = data()
    z = x @ W0.T + B0
    prod = z * softmax_residual(x, y)  # (N, 2): z_ni ∂L_n/∂z_ni
    torch.testing.assert_close(score(one_layer(), "gating", batch=(x, y))["layers.0.weight"], prod.mean(0).abs())
    torch.testing.assert_close(score(one_layer(), "taylor-neuron", batch=(x, y))["layers.0.weight"], prod.abs().mean(0))


def mse(out, t):
    return ((out - t) ** 2).sum(1).mean()


def test_obd_hessian_diagonal_linear_mse():
    # Linear layer + L = mean_n ||W x_n + b - t_n||²: H_(ij),(ij) = 2 mean_n x_nj², independent of t.
    x = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0], [1.0, 0.0, 0.0]])
    t = torch.zeros(4, 2)
    h = 2 * (x ** 2).mean(0).expand(2, 3)
    for method in ("exact", "hutchinson"):  # XᵀX is diagonal here, so Hutchinson is exact too
        d = hessian_diagonal(one_layer(), ["layers.0.weight"], (x, t), mse, method=method, samples=3)
        torch.testing.assert_close(d["layers.0.weight"], h)
    obd = score(one_layer(), "obd", batch=(x, t), loss_fn=mse, method="exact")["layers.0.weight"]
    torch.testing.assert_close(obd, 0.5 * h * W0 ** 2)


def test_obd_gauss_newton_equals_exact_for_a_linear_model():
    # For one linear layer under cross-entropy the Hessian is exactly the Gauss-Newton matrix.
    x, y = data()
    names = ["layers.0.weight"]
    exact = hessian_diagonal(one_layer(), names, (x, y), method="exact")["layers.0.weight"]
    gn = hessian_diagonal(one_layer(), names, (x, y), method="gauss-newton")["layers.0.weight"]
    torch.testing.assert_close(gn, exact, rtol=1e-4, atol=1e-6)
    p = F.softmax(x @ W0.T + B0, dim=1)  # by hand: H_(ij),(ij) = mean_n p_ni (1 - p_ni) x_nj²
    torch.testing.assert_close(exact, (p * (1 - p)).T @ (x ** 2) / len(x), rtol=1e-4, atol=1e-6)


def obs_layer():
    net = MLP([3, 1])
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[0.8, -0.5, 0.3]]))
        net.layers[0].bias.zero_()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(12, 3, generator=g) @ torch.tensor([[1.0, 0.6, 0.0], [0.0, 1.0, 0.4], [0.0, 0.0, 1.0]])
    return net, x


def test_obs_update_matches_brute_force_least_squares():
    net, x = obs_layer()
    w = net.layers[0].weight.detach()[0]
    mask = {"layers.0.weight": torch.tensor([[False, True, True]])}
    new = obs_compensate(net, mask, batch=(x, torch.zeros(12)), damp=1e-10)["layers.0.weight"][0]
    # brute force: refit the kept weights (columns 1, 2) to the dense outputs X w
    sol = torch.linalg.lstsq(x[:, 1:].double(), (x @ w).double().unsqueeze(1)).solution.squeeze(1)
    assert new[0] == 0
    torch.testing.assert_close(new[1:].double(), sol, rtol=1e-5, atol=1e-6)
    # and the OBS update beats leaving the other weights alone
    err = lambda v: float(((x @ (v - w)) ** 2).mean())
    assert err(new) < err(w * torch.tensor([0.0, 1.0, 1.0]))


def test_obs_saliency_is_the_least_squares_loss_increase():
    net, x = obs_layer()
    w = net.layers[0].weight.detach()[0].double()
    s = score(net, "obs", batch=(x, torch.zeros(12)), damp=1e-10)["layers.0.weight"][0]
    X = x.double()
    for q in range(3):
        keep = [j for j in range(3) if j != q]
        sol = torch.linalg.lstsq(X[:, keep], (X @ w).unsqueeze(1)).solution.squeeze(1)
        v = torch.zeros(3, dtype=torch.float64)
        v[keep] = sol
        best = float(((X @ (v - w)) ** 2).mean())  # min over ŵ with ŵ_q = 0 of E(ŵ)
        assert float(s[q]) == pytest.approx(best, rel=1e-4)


def test_variance_scores_and_folding_by_hand():
    net = one_layer()
    x = torch.tensor([[1.0, 5.0, 0.0], [3.0, 5.0, 2.0], [1.0, 5.0, 4.0], [3.0, 5.0, 2.0]])
    mean, var = torch.tensor([2.0, 5.0, 2.0]), torch.tensor([1.0, 0.0, 2.0])
    s = score(net, "variance", batch=(x, torch.zeros(4)))["layers.0.weight"]
    torch.testing.assert_close(s, W0 ** 2 * var)
    mask = {"layers.0.weight": torch.tensor([[True, False, True], [True, False, False]])}
    b = variance_fold(net, mask, batch=(x, torch.zeros(4)))["layers.0.bias"]
    torch.testing.assert_close(b, B0 + torch.tensor([-2.0 * 5.0, 3.0 * 5.0 + (-1.0) * 2.0]))


def test_hebbian_is_abs_correlation():
    net = one_layer()
    x, _ = data()
    s = score(net, "hebbian", batch=(x, torch.zeros(4)))["layers.0.weight"]
    z = x @ W0.T + B0
    for i in range(2):
        for j in range(3):
            c = torch.corrcoef(torch.stack([z[:, i], x[:, j]]))[0, 1]
            assert float(s[i, j]) == pytest.approx(abs(float(c)), abs=1e-5)


def test_movement_accumulates_minus_w_times_grad():
    net = one_layer()
    acc = MovementAccumulator(net)
    x, y = data()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    expect = torch.zeros(2, 3)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        expect -= net.layers[0].weight.detach() * net.layers[0].weight.grad
        acc.after_backward(StepContext(net, opt))
        opt.step()
    got = score(net, "movement", accumulator=acc)["layers.0.weight"]
    torch.testing.assert_close(got, expect)


def test_redundancy_counts_units_from_the_spectrum():
    net = MLP([4, 4])
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.eye(4))
        net.layers[0].bias.zero_()
    g = torch.Generator().manual_seed(0)
    rank1 = torch.randn(500, 1, generator=g) * torch.tensor([[1.0, 2.0, -1.0, 0.5]])
    assert units_needed(net, batch=(rank1, torch.zeros(500)))["layers.0.weight"] == 1
    iso = torch.randn(4000, 4, generator=g)
    assert units_needed(net, batch=(iso, torch.zeros(4000)))["layers.0.weight"] == 4


@pytest.mark.parametrize("name", [n for n in CRITERIA.names() if CRITERIA.get(n).needs])
def test_data_dependent_criteria_say_which_data(name):
    with pytest.raises(ConfigError, match=f"criterion '{name}' needs data: pass"):
        score(one_layer(), name)


def test_unknown_criterion_lists_valid_ones():
    with pytest.raises(ConfigError, match="unknown criterion 'magnitud'; valid criteria: .*magnitude"):
        score(one_layer(), "magnitud")
