"""Physical removal: the model really shrinks and its outputs do not change; Han's rule."""
import pytest
import torch

from sparsenet.errors import ConfigError
from sparsenet.models import MLP, build_model
from sparsenet.prune import density_masks, han_masks, han_schedule, prune, quality_for_density, shrink


def test_mlp_neuron_pruning_then_shrink_keeps_outputs():
    torch.manual_seed(0)
    m = MLP([20, 16, 12, 5], activation="relu")
    x = torch.randn(64, 20)
    masks = prune(m, "magnitude", 0.5, structure="neuron")
    small, _, report = shrink(m, masks)
    assert small.sizes == [20, 8, 6, 5]
    torch.testing.assert_close(small(x), m(x))


@pytest.mark.parametrize("structure, amount, scope", [("channel", 0.5, "layerwise"), ("unstructured", 0.97, "global")])
def test_convnet_shrink_keeps_outputs(structure, amount, scope):
    torch.manual_seed(0)
    c = build_model("convnet", spec="4-6:8")
    x = torch.randn(8, 1, 28, 28)
    masks = prune(c, "magnitude", amount, structure=structure, scope=scope, force=True)
    small, small_masks, report = shrink(c, masks)
    torch.testing.assert_close(small(x), c(x))
    before = sum(p.numel() for p in c.parameters())
    assert sum(p.numel() for p in small.parameters()) < before
    assert all(small_masks[k].shape == dict(small.named_parameters())[k].shape for k in small_masks)
    if structure == "channel":
        assert small.channels == (2, 3)


def test_convnet_shrink_folds_constant_channels_into_the_fc_bias():
    torch.manual_seed(0)
    c = build_model("convnet", spec="3-2:4")
    with torch.no_grad():
        c.convs[1].bias.copy_(torch.tensor([0.7, 0.3]))
    masks = {n: torch.ones_like(p, dtype=torch.bool) for n, p in c.named_parameters() if n.endswith("weight")}
    masks["convs.1.weight"][1] = False  # channel 1 of conv 1: no inputs, constant relu(0.3) map
    small, _, report = shrink(c, masks)
    assert small.channels == (3, 1) and report["convs.1"]["folded"] == 1
    x = torch.randn(4, 1, 28, 28)
    from sparsenet.masks import apply_masks
    apply_masks(c, masks)
    torch.testing.assert_close(small(x), c(x))


def test_shrink_refuses_other_models():
    from torch import nn
    with pytest.raises(ConfigError, match="physical removal supports MLP, ConvNet and nn.Sequential stacks"):
        shrink(nn.Linear(2, 2), {})
    with pytest.raises(ConfigError, match="holds no Linear / Conv layer"):
        shrink(nn.Sequential(nn.ReLU()), {})


def test_han_threshold_is_quality_times_std():
    m = MLP([4, 2])
    w = torch.tensor([[1.0, -1.0, 3.0, -3.0], [0.5, -0.5, 2.0, 0.0]])
    with torch.no_grad():
        m.layers[0].weight.copy_(w)
    sd = float(w.std(unbiased=False))
    masks = han_masks(m, 1.0)
    assert torch.equal(masks["layers.0.weight"], w.abs() >= sd)
    assert quality_for_density(w, torch.ones_like(w, dtype=torch.bool), 0.25) == pytest.approx(3.0 / sd)
    dm, q = density_masks(m, {"layers.0.weight": 0.25}, {"layers.0.weight": torch.ones_like(w, dtype=torch.bool)})
    assert int(dm["layers.0.weight"].sum()) == 2 and q["layers.0.weight"] == pytest.approx(3.0 / sd)


def test_han_schedule_ends_exactly_at_the_target():
    steps = han_schedule({"a": 0.08, "b": 0.26}, 3)
    assert steps[-1] == {"a": 0.08, "b": 0.26}
    assert steps[0]["a"] == pytest.approx(0.08 ** (1 / 3))
