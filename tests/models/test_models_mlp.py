import copy
import math
import pickle
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sparsenet.errors import ConfigError, SparsenetError
from sparsenet.models import MLP, activation_fn, activation_names


def _set(net: MLP, weights, biases):
    with torch.no_grad():
        for layer, w, b in zip(net.layers, weights, biases):
            layer.weight.copy_(torch.tensor(w))
            layer.bias.copy_(torch.tensor(b))


def test_parameter_names_and_attributes():
    net = MLP([4, 3, 2], activation="leaky_relu", leaky_slope=0.2)
    assert [n for n, _ in net.named_parameters()] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ]
    assert isinstance(net.layers, nn.ModuleList)
    assert all(isinstance(l, nn.Linear) for l in net.layers)
    assert net.sizes == [4, 3, 2]
    assert net.activation == "leaky_relu"
    assert net.leaky_slope == 0.2
    assert net.spec == "4-3-2"
    assert net.layers[0].weight.shape == (3, 4)


@pytest.mark.parametrize(
    "activation, hidden",
    [
        # pre-activations of the hidden layer are [3, -2] for x = [1, 2]
        ("relu", [3.0, 0.0]),
        ("tanh", [math.tanh(3.0), math.tanh(-2.0)]),
        ("leaky_relu", [3.0, -0.2]),
    ],
)
def test_forward_hand_computed(activation, hidden):
    net = MLP([2, 2, 1], activation=activation, leaky_slope=0.1)
    _set(net, [[[1.0, 1.0], [0.0, -1.0]], [[1.0, 2.0]]], [[0.0, 0.0], [-10.0]])
    out = net(torch.tensor([[1.0, 2.0]]))
    # no activation after the last layer: the output may be negative
    expected = hidden[0] + 2 * hidden[1] - 10.0
    torch.testing.assert_close(out, torch.tensor([[expected]]))


def test_forward_flattens_input():
    torch.manual_seed(0)
    net = MLP([12, 5, 3])
    x = torch.randn(4, 3, 2, 2)
    torch.testing.assert_close(net(x), net(x.reshape(4, 12)))
    assert net(torch.zeros(0, 3, 4)).shape == (0, 3)  # empty batch


def test_forward_rejects_unbatched_input():
    net = MLP([3, 2])
    with pytest.raises(SparsenetError, match="unsqueeze"):
        net(torch.zeros(3))


def test_activation_registry():
    assert activation_names() == ["leaky_relu", "relu", "tanh"]
    x = torch.tensor([-2.0, 0.5])
    torch.testing.assert_close(activation_fn("relu")(x), torch.tensor([0.0, 0.5]))
    torch.testing.assert_close(activation_fn("tanh")(x), torch.tanh(x))
    torch.testing.assert_close(activation_fn("leaky_relu", 0.25)(x), torch.tensor([-0.5, 0.5]))


def test_unknown_activation_lists_valid_ones():
    with pytest.raises(ConfigError) as info:
        activation_fn("sigmoidish")
    assert "'sigmoidish'" in str(info.value)
    for name in ("tanh", "relu", "leaky_relu"):
        assert name in str(info.value)
    with pytest.raises(ConfigError, match="valid activations"):
        MLP([3, 2], activation="gelu")


@pytest.mark.parametrize("slope", [float("nan"), float("inf"), "0.1", True])
def test_bad_leaky_slope(slope):
    with pytest.raises(ConfigError, match="leaky_slope"):
        MLP([3, 2], activation="leaky_relu", leaky_slope=slope)


@pytest.mark.parametrize("sizes", [[5], [], [0, 3], [3, 0], [3, -1, 2], [3, 2.5, 2], [3, True, 2], "3-2"])
def test_bad_sizes(sizes):
    with pytest.raises(ConfigError):
        MLP(sizes)


def test_creation_is_deterministic_given_seed():
    torch.manual_seed(123)
    a = MLP([20, 10, 5])
    torch.manual_seed(123)
    b = MLP([20, 10, 5])
    torch.manual_seed(124)
    c = MLP([20, 10, 5])
    for (n, p), (_, q), (_, r) in zip(a.named_parameters(), b.named_parameters(), c.named_parameters()):
        assert torch.equal(p, q), n
        assert not torch.equal(p, r), n


def test_default_linear_init_bounds():
    torch.manual_seed(0)
    net = MLP([400, 100, 10])
    for layer in net.layers:
        bound = 1 / math.sqrt(layer.in_features)
        assert layer.weight.abs().max() <= bound
        assert layer.bias.abs().max() <= bound
        # uniform on [-bound, bound]: the spread fills most of the interval
        assert layer.weight.abs().max() > 0.9 * bound


def test_width_zero_hidden_layer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = MLP([3, 0, 2])
    with torch.no_grad():
        net.layers[1].bias.copy_(torch.tensor([1.5, -2.0]))
    out = net(torch.randn(4, 3))
    torch.testing.assert_close(out, torch.tensor([[1.5, -2.0]]).expand(4, 2))


class _MaskedLinear(nn.Module):
    """Stand-in for a SparseLinear: same attributes as nn.Linear, a fixed mask on the weight."""

    def __init__(self, linear: nn.Linear, mask: torch.Tensor):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight, self.bias = linear.weight, linear.bias
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


def test_layers_can_be_swapped_for_linear_like_modules():
    torch.manual_seed(0)
    net = MLP([6, 4, 3], activation="relu")
    mask = torch.rand(4, 6) > 0.5
    reference = copy.deepcopy(net)
    with torch.no_grad():
        reference.layers[0].weight.mul_(mask)
    net.layers[0] = _MaskedLinear(net.layers[0], mask)
    x = torch.randn(5, 6)
    torch.testing.assert_close(net(x), reference(x))


def test_copy_and_pickle():
    torch.manual_seed(0)
    net = MLP([5, 4, 2], activation="leaky_relu", leaky_slope=0.3)
    x = torch.randn(3, 5)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        torch.testing.assert_close(clone(x), net(x))
        assert clone.leaky_slope == 0.3


def test_repr_mentions_spec():
    assert "4-3-2" in repr(MLP([4, 3, 2]))
