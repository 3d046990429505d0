"""Edge-popup: exact top-k masks, straight-through gradients, frozen weights, k errors, equal size."""
import math

import pytest
import torch

from sparsenet.lottery.edge_popup import PopupLinear, PopupMLP, TopKStraightThrough, check_k
from sparsenet.lottery.errors import TopKError
from sparsenet.lottery.strong import neuron_fraction_for


def test_topk_mask_and_straight_through_gradient():
    s = torch.tensor([0.1, -0.9, 0.5, 0.3], requires_grad=True)
    m = TopKStraightThrough.apply(s.abs(), 0.5)
    assert m.tolist() == [0.0, 1.0, 1.0, 0.0]
    (m * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    # d|s|/ds = sign(s); straight-through passes the upstream gradient unchanged
    assert s.grad.tolist() == [1.0, -2.0, 3.0, 4.0]


def test_layer_uses_only_top_k_weights_and_learns_only_scores():
    g = torch.Generator().manual_seed(0)
    layer = PopupLinear(4, 3, 50, "signed_constant", g)
    assert [n for n, _ in layer.named_parameters()] == ["scores"]
    sigma = math.sqrt(2 / 4)
    torch.testing.assert_close(layer.weight.abs(), torch.full((3, 4), sigma))
    x = torch.eye(4)
    m = layer.mask()
    assert int(m.sum()) == 6
    torch.testing.assert_close(layer(x), x @ (layer.weight * m).T)
    layer(x).sum().backward()
    assert layer.scores.grad is not None and layer.weight.grad is None


@pytest.mark.parametrize("k", [0, -5, 100.5, 1000])
def test_k_outside_range(k):
    with pytest.raises(TopKError, match=r"outside \(0, 100\]"):
        check_k(k)


def test_neuron_fraction_gives_equal_parameter_count():
    sizes = [10, 20, 20, 5]
    q = neuron_fraction_for(sizes, 50)
    total = 10 * 20 + 20 * 20 + 20 * 5
    assert abs(q * 200 + q * q * 400 + q * 100 - 0.5 * total) < 1e-6
    assert neuron_fraction_for([10, 20, 5], 30) == pytest.approx(0.3)


def test_neuron_mode_prunes_whole_hidden_units():
    net = PopupMLP([6, 8, 3], k=50, mode="neuron", seed=1)
    m0 = net.layers[0].mask().expand_as(net.layers[0].weight)
    assert int(m0[:, 0].sum()) == 4 and bool((m0 == m0[:, :1]).all())  # whole rows on or off
    assert int(net.layers[1].mask().sum()) == 3  # output units all kept
    assert net.effective_params() == 4 * 6 + 4 * 3
