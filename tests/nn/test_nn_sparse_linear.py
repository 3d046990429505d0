"""SparseLinear against the dense oracle: forward, backward, edge cases, conversions, state_dict."""
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from sparsenet.errors import SparsenetError
from sparsenet.models import MLP
from sparsenet.nn import SparseLinear, densify, sparsify


def _pair(out_f, in_f, density, seed, empty_rows=()):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(out_f, in_f, generator=g)
    mask = torch.rand(out_f, in_f, generator=g) < density
    for r in empty_rows:
        mask[r] = False
    w = w * mask
    b = torch.randn(out_f, generator=g)
    return SparseLinear.from_dense(w, b, mask), w, b, mask


def _check_against_dense(layer, w, b, mask, batch):
    x = torch.randn(batch, w.shape[1], requires_grad=True)
    y = layer(x)
    wd = w.clone().requires_grad_(True)
    xd = x.detach().clone().requires_grad_(True)
    yd = nn.functional.linear(xd, wd, b)
    torch.testing.assert_close(y, yd)
    gy = torch.randn_like(y)
    y.backward(gy)
    yd.backward(gy)
    torch.testing.assert_close(x.grad, xd.grad)
    torch.testing.assert_close(layer.values.grad, wd.grad[mask])
    torch.testing.assert_close(layer.bias.grad, gy.sum(0))


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_forward_backward_match_dense(batch):
    layer, w, b, mask = _pair(7, 11, 0.3, 0, empty_rows=(2, 5))
    _check_against_dense(layer, w, b, mask, batch)


def test_all_pruned_layer_outputs_bias_and_has_zero_input_grad():
    layer, w, b, mask = _pair(4, 6, 0.0, 1)
    assert layer.nnz == 0
    x = torch.randn(2, 6, requires_grad=True)
    y = layer(x)
    torch.testing.assert_close(y, b.expand(2, 4))
    y.sum().backward()
    assert torch.equal(x.grad, torch.zeros(2, 6))


def test_hand_computed_forward():
    w = torch.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, -1.0]])
    layer = SparseLinear.from_dense(w, torch.tensor([0.5, 0.0]))
    y = layer(torch.tensor([[1.0, 2.0, 3.0]]))
    assert torch.equal(y, torch.tensor([[4.5, -2.0]]))
    assert layer.crow.tolist() == [0, 1, 3] and layer.col.tolist() == [1, 0, 2]


@settings(max_examples=25, deadline=None)
@given(out_f=st.integers(1, 9), in_f=st.integers(1, 9), density=st.floats(0, 1), seed=st.integers(0, 99),
       batch=st.integers(1, 4))
def test_property_matches_dense(out_f, in_f, density, seed, batch):
    layer, w, b, mask = _pair(out_f, in_f, density, seed)
    _check_against_dense(layer, w, b, mask, batch)


def test_dense_sparse_dense_round_trip_is_lossless():
    lin = nn.Linear(10, 6)
    mask = torch.rand(6, 10) < 0.4
    with torch.no_grad():
        lin.weight.mul_(mask)
    back = SparseLinear.from_linear(lin, mask).to_linear()
    assert torch.equal(back.weight, lin.weight) and torch.equal(back.bias, lin.bias)


def test_optimizer_state_is_size_nnz():
    layer, *_ = _pair(50, 40, 0.05, 3)
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)
    layer(torch.randn(2, 40)).sum().backward()
    opt.step()
    assert opt.state[layer.values]["exp_avg"].numel() == layer.nnz < 50 * 40


def test_pruned_state_dict_loads_strictly_into_unpruned_model():
    torch.manual_seed(0)
    pruned = MLP([12, 8, 3])
    masks = {"layers.0.weight": torch.rand(8, 12) < 0.3}
    with torch.no_grad():
        pruned.layers[0].weight.mul_(masks["layers.0.weight"])
    sparsify(pruned, masks)
    assert isinstance(pruned.layers[0], SparseLinear)
    fresh = MLP([12, 8, 3])
    fresh.load_state_dict(pruned.state_dict(), strict=True)
    x = torch.randn(5, 12)
    torch.testing.assert_close(fresh(x), pruned(x))
    assert set(pruned.state_dict()) == set(fresh.state_dict())
    # and back: a dense state_dict loads into the sparse model when it respects the pattern
    again = MLP([12, 8, 3])
    sparsify(again, masks)
    again.load_state_dict(fresh.state_dict(), strict=True)
    torch.testing.assert_close(again(x), fresh(x))
    densify(again)
    assert isinstance(again.layers[0], nn.Linear)
    torch.testing.assert_close(again(x), fresh(x))


def test_loading_weights_outside_pattern_is_refused():
    layer = SparseLinear.from_dense(torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.zeros(2))
    with pytest.raises(RuntimeError, match="outside this SparseLinear's pattern"):
        layer.load_state_dict({"weight": torch.ones(2, 2), "bias": torch.zeros(2)})


def test_random_er_layer_never_allocates_dense_and_has_requested_density():
    g = torch.Generator().manual_seed(0)
    layer = SparseLinear.random(2000, 1000, 0.01, generator=g)
    assert abs(layer.nnz / 2_000_000 - 0.01) < 0.001
    assert layer(torch.randn(1, 2000)).shape == (1, 1000)
    with pytest.raises(SparsenetError, match="density"):
        SparseLinear.random(10, 10, 0.0)


def test_bad_csr_is_rejected():
    with pytest.raises(SparsenetError, match="row pointer"):
        SparseLinear(3, 2, torch.tensor([0, 1]), torch.tensor([0]), torch.ones(1))
    with pytest.raises(SparsenetError, match="out of range"):
        SparseLinear(3, 1, torch.tensor([0, 1]), torch.tensor([7]), torch.ones(1))


def test_backend_resolved_once_follows_kernel_and_copies():
    import copy
    import pickle

    from sparsenet.kernels.backends import BACKENDS

    torch.manual_seed(0)
    layer = SparseLinear.random(12, 5, 0.5)
    x = torch.randn(3, 12)
    y = layer(x)
    assert layer._resolved_backend(x) is BACKENDS.get("numba")
    layer.kernel = "reference"  # switching the kernel re-resolves
    torch.testing.assert_close(layer(x), y)
    assert layer._resolved_backend(x) is BACKENDS.get("reference")
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        torch.testing.assert_close(clone(x), y)
        assert clone._resolved_backend(x) is BACKENDS.get("reference")  # the registered instance
