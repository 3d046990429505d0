import copy

import pytest
import torch
from torch import nn

from sparsenet.errors import SparsenetError
from sparsenet.masks import apply_masks, remove_unconnected
from sparsenet.models import MLP, activation_fn

T, F = True, False


def _set(net, weights, biases):
    with torch.no_grad():
        for layer, w, b in zip(net.layers, weights, biases):
            layer.weight.copy_(torch.tensor(w))
            layer.bias.copy_(torch.tensor(b))


def _masked(model, masks):
    ref = copy.deepcopy(model)
    apply_masks(ref, masks)
    return ref


def test_hand_computed_3_4_2():
    net = MLP([3, 4, 2], activation="relu")
    _set(
        net,
        [
            [[1.0, 2.0, 9.0], [7.0, 7.0, 7.0], [3.0, -1.0, 1.0], [1.0, 9.0, 1.0]],
            [[1.0, 2.0, 3.0, 4.0], [-1.0, -2.0, 5.0, 6.0]],
        ],
        [[0.1, 0.5, -0.2, 0.3], [0.0, 1.0]],
    )
    masks = {
        # unit 1: no incoming weights -> outputs relu(0.5) = 0.5, folded
        "layers.0.weight": torch.tensor([[T, T, F], [F, F, F], [T, T, T], [T, F, T]]),
        # unit 2: no outgoing weights -> removed
        "layers.1.weight": torch.tensor([[T, T, F, T], [T, T, F, T]]),
    }
    small, small_masks, report = remove_unconnected(net, masks)

    assert small.sizes == [3, 2, 2]
    assert small.activation == "relu"
    assert report == {"layers.0": {"units_before": 4, "units_after": 2, "folded": 1}}
    # kept units 0 and 3, with the masks applied
    torch.testing.assert_close(small.layers[0].weight.detach(), torch.tensor([[1.0, 2.0, 0.0], [1.0, 0.0, 1.0]]))
    torch.testing.assert_close(small.layers[0].bias.detach(), torch.tensor([0.1, 0.3]))
    torch.testing.assert_close(small.layers[1].weight.detach(), torch.tensor([[1.0, 4.0], [-1.0, 6.0]]))
    # b1 + W1[:, 1] * relu(0.5) = [0 + 2 * 0.5, 1 - 2 * 0.5]
    torch.testing.assert_close(small.layers[1].bias.detach(), torch.tensor([1.0, 0.0]))
    assert list(small_masks) == ["layers.0.weight", "layers.1.weight"]
    assert torch.equal(small_masks["layers.0.weight"], torch.tensor([[T, T, F], [T, F, T]]))
    assert torch.equal(small_masks["layers.1.weight"], torch.ones(2, 2, dtype=torch.bool))

    # x = [1, 2, 3]: units 0 and 3 give relu(5.1) and relu(4.3);
    # out = [5.1 + 4 * 4.3 + 1, -5.1 + 6 * 4.3 + 0] = [23.3, 20.7]
    x = torch.tensor([[1.0, 2.0, 3.0]])
    torch.testing.assert_close(small(x), torch.tensor([[23.3, 20.7]]))
    torch.testing.assert_close(_masked(net, masks)(x), torch.tensor([[23.3, 20.7]]))


def test_inputs_are_not_modified():
    torch.manual_seed(0)
    net = MLP([3, 4, 2])
    masks = {"layers.0.weight": torch.tensor([[T, T, F], [F, F, F], [T, T, T], [T, F, T]])}
    state = {k: v.clone() for k, v in net.state_dict().items()}
    mask_copy = masks["layers.0.weight"].clone()
    small, _, _ = remove_unconnected(net, masks)
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())
    assert torch.equal(masks["layers.0.weight"], mask_copy)
    assert small is not net and small.layers[1].bias is not net.layers[1].bias


def _random_masks(net, density, seed, kill_rows=(), kill_cols=()):
    g = torch.Generator().manual_seed(seed)
    masks = {}
    for l, layer in enumerate(net.layers):
        m = torch.rand(layer.weight.shape, generator=g) < density
        for ll, j in kill_rows:
            if ll == l:
                m[j, :] = False
        for ll, j in kill_cols:
            if ll == l:
                m[:, j] = False
        masks[f"layers.{l}.weight"] = m
    return masks


@pytest.mark.parametrize("activation", ["tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("density", [0.08, 0.2, 0.5])
def test_outputs_match_masked_model(activation, seed, density):
    torch.manual_seed(seed)
    net = MLP([12, 16, 10, 8, 4], activation=activation, leaky_slope=0.1).double()
    with torch.no_grad():  # biases large enough that folded constants matter
        for layer in net.layers:
            layer.bias.uniform_(-1, 1)
    masks = _random_masks(net, density, seed, kill_rows=[(0, 3), (1, 0)], kill_cols=[(2, 5)])
    small, small_masks, report = remove_unconnected(net, masks)

    x = torch.randn(32, 12, dtype=torch.float64)
    torch.testing.assert_close(small(x), _masked(net, masks)(x))
    # same keys, shapes follow the new sizes, the masks are already applied to the weights
    assert list(small_masks) == list(masks)
    for l, layer in enumerate(small.layers):
        m = small_masks[f"layers.{l}.weight"]
        assert m.shape == layer.weight.shape == (small.sizes[l + 1], small.sizes[l])
        assert bool((layer.weight[~m] == 0).all())
    assert small.sizes[0] == 12 and small.sizes[-1] == 4
    assert small.layers[0].weight.dtype == torch.float64
    # no dead unit is left: every hidden unit has an incoming and an outgoing weight
    for l in range(len(small.layers) - 1):
        assert bool(small_masks[f"layers.{l}.weight"].any(dim=1).all())
        assert bool(small_masks[f"layers.{l + 1}.weight"].any(dim=0).all())
    for l in range(3):
        assert report[f"layers.{l}"]["units_before"] == net.sizes[l + 1]
        assert report[f"layers.{l}"]["units_after"] == small.sizes[l + 1]
    assert report["layers.0"]["units_after"] <= 15  # unit 3 had no incoming weights
    # idempotent
    again, again_masks, again_report = remove_unconnected(small, small_masks)
    assert again.sizes == small.sizes
    assert all(r["units_before"] == r["units_after"] for r in again_report.values())


def test_removal_cascades():
    # 2-2-2-1: unit 0 of layer 1 feeds only unit 0 of layer 2 (no other input), and unit 1 of
    # layer 2 is the only one reaching the output -> everything but one path disappears.
    net = MLP([2, 2, 2, 1], activation="tanh").double()
    masks = {
        "layers.0.weight": torch.tensor([[T, T], [T, T]]),
        "layers.1.weight": torch.tensor([[T, F], [F, T]]),
        "layers.2.weight": torch.tensor([[F, T]]),
    }
    small, small_masks, report = remove_unconnected(net, masks)
    # layer 2 unit 0 has no outgoing -> removed; then layer 1 unit 0 has no outgoing -> removed
    assert small.sizes == [2, 1, 1, 1]
    assert report["layers.0"] == {"units_before": 2, "units_after": 1, "folded": 0}
    x = torch.randn(5, 2, dtype=torch.float64)
    torch.testing.assert_close(small(x), _masked(net, masks)(x))


def test_input_side_columns_disappear_with_their_unit():
    net = MLP([3, 3, 3, 2], activation="relu").double()
    masks = {"layers.0.weight": torch.tensor([[T, T, T], [F, F, F], [T, T, T]])}
    small, small_masks, report = remove_unconnected(net, masks)
    assert small.sizes == [3, 2, 3, 2]
    assert small.layers[1].weight.shape == (3, 2)
    assert list(small_masks) == ["layers.0.weight"]  # layers without a mask stay unmasked
    assert report["layers.1"] == {"units_before": 3, "units_after": 3, "folded": 0}
    x = torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(small(x), _masked(net, masks)(x))


@pytest.mark.parametrize("activation", ["tanh", "relu", "leaky_relu"])
def test_whole_hidden_layer_dies_output_is_folded_constant(activation):
    torch.manual_seed(1)
    net = MLP([3, 4, 2], activation=activation, leaky_slope=0.2).double()
    with torch.no_grad():
        net.layers[0].bias.copy_(torch.tensor([-1.0, 0.5, 2.0, -0.3]))
    masks = {"layers.0.weight": torch.zeros(4, 3, dtype=torch.bool)}
    small, small_masks, report = remove_unconnected(net, masks)
    assert small.sizes == [3, 0, 2]
    assert small.layers[0].weight.shape == (0, 3) and small.layers[1].weight.shape == (2, 0)
    assert small_masks["layers.0.weight"].shape == (0, 3)
    assert report == {"layers.0": {"units_before": 4, "units_after": 0, "folded": 4}}
    act = activation_fn(activation, 0.2)
    W1, b0, b1 = net.layers[1].weight.detach(), net.layers[0].bias.detach(), net.layers[1].bias.detach()
    constant = b1 + W1 @ act(b0)
    x = torch.randn(6, 3, dtype=torch.float64)
    torch.testing.assert_close(small(x), constant.expand(6, 2))
    torch.testing.assert_close(_masked(net, masks)(x), constant.expand(6, 2))


def test_dead_first_layer_propagates_through_deep_net():
    torch.manual_seed(2)
    net = MLP([5, 4, 3, 2], activation="tanh").double()
    masks = {"layers.0.weight": torch.zeros(4, 5, dtype=torch.bool)}
    small, _, report = remove_unconnected(net, masks)
    # layer 0 folds into layer 1's bias; layer 1 then has no inputs and folds into layer 2
    assert small.sizes == [5, 0, 0, 2]
    assert report["layers.1"] == {"units_before": 3, "units_after": 0, "folded": 3}
    x = torch.randn(3, 5, dtype=torch.float64)
    out = small(x)
    torch.testing.assert_close(out, _masked(net, masks)(x))
    torch.testing.assert_close(out[0], out[1])


def test_bias_masks():
    net = MLP([2, 2, 2], activation="tanh").double()
    _set(net, [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]], [[0.5, 0.7], [0.3, 0.4]])
    masks = {
        "layers.0.weight": torch.tensor([[T, T], [F, F]]),  # unit 1 constant tanh(0.7)
        "layers.1.bias": torch.tensor([F, T]),  # bias 0 pruned, receives a fold -> becomes live
    }
    small, small_masks, _ = remove_unconnected(net, masks)
    x = torch.randn(4, 2, dtype=torch.float64)
    ref = _masked(net, masks)
    torch.testing.assert_close(small(x), ref(x))
    assert torch.equal(small_masks["layers.1.bias"], torch.tensor([T, T]))
    folded = torch.tensor([1.0, 2.0], dtype=torch.float64) * torch.tanh(torch.tensor(0.7, dtype=torch.float64))
    torch.testing.assert_close(small.layers[1].bias.detach(), torch.tensor([0.0, 0.4], dtype=torch.float64) + folded)


def test_float32_default_tolerance_and_bigger_net():
    torch.manual_seed(3)
    net = MLP([64, 128, 64, 10], activation="relu")
    masks = _random_masks(net, 0.03, 0)
    small, _, report = remove_unconnected(net, masks)
    assert report["layers.0"]["units_after"] < 128
    x = torch.randn(16, 64)
    torch.testing.assert_close(small(x), _masked(net, masks)(x))


def test_does_not_touch_global_rng():
    torch.manual_seed(0)
    net = MLP([6, 5, 2])
    masks = {"layers.0.weight": torch.rand(5, 6) > 0.7}
    state = torch.get_rng_state()
    remove_unconnected(net, masks)
    assert torch.equal(torch.get_rng_state(), state)


def test_keeps_training_mode_and_requires_grad():
    net = MLP([3, 2, 2])
    net.eval()
    net.layers[0].bias.requires_grad_(False)
    small, _, _ = remove_unconnected(net, {})
    assert not small.training
    assert not small.layers[0].bias.requires_grad
    assert small.layers[0].weight.requires_grad
    assert isinstance(small.layers[0].weight, nn.Parameter)


def test_errors():
    net = MLP([3, 2, 2])
    with pytest.raises(SparsenetError, match="needs an MLP"):
        remove_unconnected(nn.Sequential(nn.Linear(3, 2)), {})
    with pytest.raises(SparsenetError, match="layers.9.weight"):
        remove_unconnected(net, {"layers.9.weight": torch.ones(2, 2, dtype=torch.bool)})
    other = MLP([3, 2, 2])
    other.layers[1] = nn.Identity()
    with pytest.raises(SparsenetError, match="layers.1 is Identity"):
        remove_unconnected(other, {})
