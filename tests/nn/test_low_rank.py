"""LowRankLinear (Denil et al. 2013) and its dictionaries, against the dense reference and by hand."""
import math

import pytest
import torch
from torch import nn
from torch.func import functional_call

from sparsenet.errors import SparsenetError
from sparsenet.nn import LowRankLinear
from sparsenet.nn.dictionaries import DICTIONARIES, dct_basis, se_kernel, spread_anchors, input_coordinates

CASES = [("se", {}), ("se", {"input_shape": (3, 3)}), ("gaussian", {"seed": 3}), ("dct", {}),
         ("dct", {"input_shape": (1, 3, 3)}), ("pca", {"data": torch.randn(20, 9, generator=torch.Generator().manual_seed(0))})]


@pytest.mark.parametrize("name,opts", CASES)
@pytest.mark.parametrize("batch", [1, 4])
def test_forward_and_backward_match_dense_reference(name, opts, batch):
    torch.manual_seed(0)
    layer = LowRankLinear(9, 5, 4, dictionary=name, **opts)
    dense = layer.to_linear()
    x = torch.randn(batch, 9, requires_grad=True)
    xd = x.detach().clone().requires_grad_(True)
    y = layer(x)
    torch.testing.assert_close(y, dense(xd), rtol=1e-5, atol=1e-6)
    g = torch.randn_like(y)
    y.backward(g)
    dense(xd).backward(g)
    torch.testing.assert_close(x.grad, xd.grad)
    torch.testing.assert_close(layer.bias.grad, dense.bias.grad)
    # dL/dV = U^T dL/dW^T: the chain rule through W^T = U V
    torch.testing.assert_close(layer.V.grad, layer.U.T @ dense.weight.grad.T, rtol=1e-5, atol=1e-6)


def test_leading_dims_and_no_bias():
    layer = LowRankLinear(7, 3, 2, dictionary="dct", bias=False)
    x = torch.randn(2, 5, 7)
    torch.testing.assert_close(layer(x), x @ layer.to_linear().weight.T)
    assert layer.to_linear().bias is None


@pytest.mark.parametrize("freeze_u", [True, False])
def test_gradcheck_float64_odd_sizes(freeze_u):
    layer = LowRankLinear(7, 5, 3, dictionary="gaussian", freeze_u=freeze_u).double()
    x = torch.randn(3, 7, dtype=torch.float64, requires_grad=True)
    params = {k: v.detach().clone().requires_grad_(True) for k, v in layer.named_parameters()}
    names = list(params)
    assert ("U" in names) is (not freeze_u)

    def f(x, *values):
        return functional_call(layer, dict(zip(names, values)), (x,))

    assert torch.autograd.gradcheck(f, (x, *params.values()))


def test_u_is_a_buffer_that_never_trains():
    torch.manual_seed(1)
    layer = LowRankLinear(12, 4, 3, dictionary="se")
    u0, v0 = layer.U.clone(), layer.V.detach().clone()
    assert not layer.U.requires_grad and "U" in dict(layer.named_buffers())
    assert {n for n, _ in layer.named_parameters()} == {"V", "bias"}
    opt = torch.optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        layer(torch.randn(8, 12)).square().sum().backward()
        opt.step()
    assert layer.U.grad is None and torch.equal(layer.U, u0)
    assert not torch.equal(layer.V.detach(), v0)


def test_se_kernel_hand_values():
    # pixels (0,0)-(0,1): distance^2 1; (0,0)-(1,1): distance^2 2; l = 2 -> exp(-1/8), exp(-2/8)
    k = se_kernel((28, 28), 2.0, rows=[0, 0], cols=[1, 29])
    torch.testing.assert_close(k, torch.tensor([[math.exp(-1 / 8), math.exp(-1 / 4)]] * 2, dtype=torch.float64))
    # (C, H, W): pixel 0 of channel 0 and pixel 0 of channel 1 are uncorrelated
    assert float(se_kernel((2, 2, 2), 5.0, rows=[0], cols=[4])) == 0.0
    assert float(se_kernel((2, 2, 2), 5.0, rows=[4], cols=[4])) == 1.0


def test_se_dictionary_is_the_kernel_ridge_regressor():
    # one anchor, ridge 0: U[:, 0] = K[:, a] / K[a, a] = exp(-(i - a)^2 / 2) for l = 1
    u = LowRankLinear(5, 2, 1, dictionary="se", anchors=[2], lengthscale=1.0, ridge=0.0).U
    expect = torch.tensor([math.exp(-2), math.exp(-0.5), 1.0, math.exp(-0.5), math.exp(-2)])
    torch.testing.assert_close(u[:, 0], expect)
    u = LowRankLinear(5, 2, 1, dictionary="se", anchors=[2], lengthscale=1.0, ridge=0.25).U
    torch.testing.assert_close(u[:, 0], expect / 1.25)
    # ridge 0 interpolates: row alpha_j of U is e_j (V's row j is the weight at anchor j)
    layer = LowRankLinear(784, 3, 16, dictionary="se", input_shape=(28, 28), ridge=0.0)
    alpha = spread_anchors(*input_coordinates(784, (28, 28)), 16)
    torch.testing.assert_close(layer.U[alpha], torch.eye(16), atol=1e-4, rtol=0)
    # the default length scale is the mean anchor spacing sqrt(784 / 16) = 7 pixels
    same = LowRankLinear(784, 3, 16, dictionary="se", input_shape=(28, 28), ridge=0.0, lengthscale=7.0)
    assert torch.equal(layer.U, same.U)


def test_spread_anchors_are_evenly_placed():
    assert spread_anchors(*input_coordinates(9), 3).tolist() == [0, 4, 8]
    assert spread_anchors(*input_coordinates(25, (5, 5)), 4).tolist() == [0, 4, 20, 24]  # the corners
    assert spread_anchors(*input_coordinates(18, (2, 3, 3)), 2).tolist() == [0, 9]  # one per channel
    a = LowRankLinear(30, 2, 5, dictionary="se", anchors="random", seed=4).U
    assert torch.equal(a, LowRankLinear(30, 2, 5, dictionary="se", anchors="random", seed=4).U)


@pytest.mark.parametrize("shape,n", [(None, 10), ((4, 6), 24), ((2, 3, 3), 18)])
def test_dct_columns_are_orthonormal(shape, n):
    u = LowRankLinear(n, 2, 7, dictionary="dct", input_shape=shape).U.double()
    torch.testing.assert_close(u.T @ u, torch.eye(7, dtype=torch.float64), atol=1e-6, rtol=0)


def test_dct_hand_values_and_frequency_order():
    s = 1 / math.sqrt(2)
    torch.testing.assert_close(dct_basis(2), torch.tensor([[s, s], [s, -s]], dtype=torch.float64))
    u = LowRankLinear(16, 2, 3, dictionary="dct", input_shape=(4, 4)).U
    torch.testing.assert_close(u[:, 0], torch.full((16,), 0.25))  # DC
    c1 = u[:, 1].reshape(4, 4)  # (k, l) = (0, 1): varies along columns only
    assert torch.allclose(c1, c1[:1].expand(4, 4)) and not torch.allclose(c1[0], c1[0, :1].expand(4))
    c2 = u[:, 2].reshape(4, 4)  # (1, 0): varies along rows only
    assert torch.allclose(c2, c2[:, :1].expand(4, 4))


def test_pca_recovers_known_principal_directions():
    # points +-c_i q_i: mean 0, covariance sum_i 2 c_i^2 q_i q_i^T / (N - 1) -> eigenvectors q_i by c_i
    q, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(2)))
    c = torch.tensor([1.0, 5.0, 2.0, 4.0, 3.0, 0.5], dtype=torch.float64)
    data = torch.cat([c[:, None] * q.T, -c[:, None] * q.T])  # (12, 6), row i = c_i q_i
    u = LowRankLinear(6, 2, 3, dictionary="pca", data=data, dtype=torch.float64).U
    for j, i in enumerate([1, 3, 4]):  # c = 5, 4, 3
        assert abs(float(u[:, j] @ q[:, i])) == pytest.approx(1.0, abs=1e-10)


def test_gaussian_is_deterministic_by_seed():
    a = LowRankLinear(50, 3, 4, dictionary="gaussian", seed=7).U
    assert torch.equal(a, LowRankLinear(50, 3, 4, dictionary="gaussian", seed=7).U)
    assert not torch.equal(a, LowRankLinear(50, 3, 4, dictionary="gaussian", seed=8).U)


def _weight_with_singular_values(s, out_f, in_f):
    g = torch.Generator().manual_seed(5)
    p, _ = torch.linalg.qr(torch.randn(out_f, len(s), dtype=torch.float64, generator=g))
    q, _ = torch.linalg.qr(torch.randn(in_f, len(s), dtype=torch.float64, generator=g))
    return p @ torch.diag(torch.tensor(s, dtype=torch.float64)) @ q.T


def test_from_linear_full_rank_is_exact_and_truncation_is_eckart_young():
    lin = nn.Linear(7, 5)
    with torch.no_grad():
        lin.weight.copy_(_weight_with_singular_values([5.0, 4.0, 3.0, 2.0, 1.0], 5, 7))
    x = torch.randn(6, 7)
    full = LowRankLinear.from_linear(lin, 5)
    torch.testing.assert_close(full(x), lin(x), atol=1e-5, rtol=0)
    assert full.dictionary == "svd" and not full.U.requires_grad
    low = LowRankLinear.from_linear(lin, 2)
    err = (low.dense_weight().double() - lin.weight.detach().double()).square().sum()
    assert float(err) == pytest.approx(3.0 ** 2 + 2.0 ** 2 + 1.0 ** 2, rel=1e-5)  # the discarded ones


def test_from_linear_unfrozen_trains_both_factors():
    layer = LowRankLinear.from_linear(nn.Linear(6, 4), 3, freeze_u=False)
    assert isinstance(layer.U, nn.Parameter)
    layer(torch.randn(2, 6)).sum().backward()
    assert layer.U.grad is not None and layer.V.grad is not None


def test_fraction_predicted_by_hand():
    assert LowRankLinear(10, 6, 2, dictionary="dct").fraction_predicted == pytest.approx(1 - 12 / 60)
    assert LowRankLinear(10, 6, 2, dictionary="dct", bias=False).fraction_predicted == pytest.approx(0.8)
    layer = LowRankLinear(10, 6, 2, dictionary="dct", freeze_u=False)
    assert layer.learned_parameters == 32 and layer.fraction_predicted == pytest.approx(1 - 32 / 60)


def test_state_dict_round_trip_reproduces_outputs():
    src = LowRankLinear(9, 4, 3, dictionary="se", input_shape=(3, 3))
    assert set(src.state_dict()) == {"U", "V", "bias"}
    x = torch.randn(5, 9)
    for dst in (LowRankLinear(9, 4, 3, dictionary="gaussian", seed=1),
                LowRankLinear(9, 4, 3, dictionary="dct", freeze_u=False)):
        dst.load_state_dict(src.state_dict())
        assert torch.equal(dst(x), src(x))


def test_training_a_tiny_problem_reduces_the_loss():
    torch.manual_seed(0)
    layer = LowRankLinear(16, 3, 5, dictionary="se")
    teacher = layer.U @ torch.randn(5, 3)  # a target in the dictionary's span
    x = torch.randn(64, 16)
    y = x @ teacher
    opt = torch.optim.Adam(layer.parameters(), lr=0.05)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        loss = (layer(x) - y).square().mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.01 * losses[0]


BAD = [
    (lambda: LowRankLinear(8, 4, 0), "rank"),
    (lambda: LowRankLinear(8, 4, 9, dictionary="gaussian"), "rank 9"),
    (lambda: LowRankLinear.from_linear(nn.Linear(8, 3), 4), "rank 4 is outside"),
    (lambda: LowRankLinear(8, 4, 2, dictionary="wavelet"), "valid dictionaries: dct, gaussian, pca, se, svd"),
    (lambda: LowRankLinear(784, 4, 2, input_shape=(28, 27)), "input_shape (28, 27)"),
    (lambda: LowRankLinear(8, 4, 2, dictionary="pca"), "needs data="),
    (lambda: LowRankLinear(8, 4, 2, dictionary="pca", data=torch.randn(2, 8)), "N >= rank + 1"),
    (lambda: LowRankLinear(8, 4, 2, dictionary="gaussian", lengthscale=2.0), "no option 'lengthscale'"),
    (lambda: LowRankLinear(8, 4, 2, lengthscale=-1.0), "lengthscale"),
    (lambda: LowRankLinear(8, 4, 2, anchors=[0, 0]), "distinct"),
    (lambda: LowRankLinear(8, 4, 2, dictionary=torch.zeros(8, 3)), "(8, 2)"),
    (lambda: LowRankLinear(8, 4, 2, dictionary="svd"), "from_linear"),
    (lambda: LowRankLinear(8, 4, 2)(torch.zeros(3, 7)), "(..., 8)"),
    (lambda: LowRankLinear.from_linear(nn.Conv1d(1, 1, 1), 1), "nn.Linear"),
]


@pytest.mark.parametrize("make,words", BAD)
def test_bad_inputs_are_one_line_errors(make, words):
    with pytest.raises(SparsenetError) as err:
        make()
    assert words in str(err.value) and "\n" not in str(err.value)


def test_registry_lists_every_dictionary():
    assert DICTIONARIES.names() == ["dct", "gaussian", "pca", "se", "svd"]
