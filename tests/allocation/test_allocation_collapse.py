"""Layer-collapse detection: emptied layers and cut paths; refused unless forced."""
import pytest
import torch

from sparsenet.allocation import LayerCollapseError, check_collapse, collapse_problems
from sparsenet.models import MLP
from sparsenet.prune import prune


def test_a_cut_path_is_found_even_when_no_layer_is_empty():
    # input -> unit 0 of layer 0 only; layer 1 only reads unit 1: no path.
    masks = {"l0": torch.tensor([[True, True], [False, False]]), "l1": torch.tensor([[False, True]])}
    assert collapse_problems(masks) == ["no path from input to output is left (cut at l1)"]
    masks["l1"] = torch.tensor([[True, False]])
    assert collapse_problems(masks) == []


def test_emptied_layer_and_conv_to_linear_links():
    conv = torch.zeros(2, 1, 3, 3, dtype=torch.bool)
    conv[1, 0, 1, 1] = True  # only channel 1 has an input
    fc = torch.zeros(3, 2 * 4, dtype=torch.bool)
    fc[0, 0:4] = True  # reads channel 0 only (4 positions per channel)
    assert collapse_problems({"conv": conv, "fc": fc}) == ["no path from input to output is left (cut at fc)"]
    fc[2, 5] = True
    assert collapse_problems({"conv": conv, "fc": fc}) == []
    empty = {"a": torch.ones(2, 2, dtype=torch.bool), "b": torch.zeros(2, 2, dtype=torch.bool)}
    assert collapse_problems(empty)[0] == "layer b is emptied (0 of 4 weights left)"


def test_refused_unless_forced():
    masks = {"a": torch.ones(2, 2, dtype=torch.bool), "b": torch.zeros(2, 2, dtype=torch.bool)}
    with pytest.raises(LayerCollapseError, match="layer collapse: layer b is emptied.*force=True"):
        check_collapse(masks)
    assert len(check_collapse(masks, force=True)) == 2


def _skewed_net():
    torch.manual_seed(0)
    net = MLP([100, 80, 60, 10], activation="relu")
    with torch.no_grad():  # a layer of small weights: global magnitude prunes it first
        net.layers[1].weight.mul_(0.01)
    return net


def test_global_magnitude_99_collapses_without_floor_and_not_with_one():
    with pytest.raises(LayerCollapseError, match="layers.1.weight is emptied"):
        prune(_skewed_net(), "magnitude", 0.99, scope="global")
    net = _skewed_net()
    masks = prune(net, "magnitude", 0.99, scope="global", min_density=0.005)
    assert collapse_problems(masks) == []
    assert sum(int(m.sum()) for m in masks.values()) == round(0.01 * (8000 + 4800 + 600))
    assert int(masks["layers.1.weight"].sum()) >= 24
