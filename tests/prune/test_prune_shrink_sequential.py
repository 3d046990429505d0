"""shrink(nn.Sequential): dead units of any Linear / Conv stack removed, outputs unchanged."""
import pytest
import torch
from torch import nn

from sparsenet.errors import ConfigError
from sparsenet.masks import apply_masks, validate_masks
from sparsenet.prune import prune, shrink


def test_hand_computed_fold_and_removal():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with torch.no_grad():
        seq[0].weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        seq[0].bias.copy_(torch.tensor([0.1, 0.5, -0.2]))
        seq[2].weight.copy_(torch.tensor([[2.0, 3.0, 7.0]]))
        seq[2].bias.copy_(torch.tensor([1.0]))
    masks = {"0.weight": torch.tensor([[True, True], [False, False], [True, True]]),
             "2.weight": torch.tensor([[True, True, False]])}
    apply_masks(seq, masks)
    small, small_masks, report = shrink(seq, masks)
    # unit 1: no inputs, constant relu(0.5) = 0.5 folded: 1 + 3 * 0.5 = 2.5; unit 2: no output
    assert [small[0].weight.tolist(), small[0].bias.tolist()] == [[[1.0, 2.0]], [pytest.approx(0.1)]]
    assert small[2].weight.tolist() == [[2.0]] and small[2].bias.tolist() == [2.5]
    assert report == {"0": {"units_before": 3, "units_after": 1, "removed": 2, "folded": 1}}
    assert small_masks["0.weight"].shape == (1, 2) and small_masks["2.weight"].shape == (1, 1)
    x = torch.rand(5, 2)
    torch.testing.assert_close(small(x), seq(x))


def _stack(padding: int):
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 6, 3, padding=padding), nn.Tanh(), nn.Flatten(),
                        nn.Linear(6 * (14 - 2 + 2 * padding) ** 2, 20), nn.GELU(), nn.Dropout(0.0),
                        nn.Linear(20, 5))
    with torch.no_grad():
        for m in seq:
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                m.bias.uniform_(-1, 1)
        seq[0].bias.abs_().add_(0.1)  # conv 0 channels without inputs output relu(b) > 0
    return seq


@pytest.mark.parametrize("padding", [0, 1])
def test_conv_linear_stack_matches_the_unshrunk_outputs(padding):
    seq = _stack(padding)
    masks = dict(prune(seq, "magnitude", 0.5, structure="channel", force=True, enforce=False))
    masks = dict(prune(seq, "magnitude", 0.5, structure="neuron", masks=masks, force=True, enforce=False))
    masks["0.weight"][:3] = False  # channels with no inputs: constant relu(b), read by conv 3
    masks["6.weight"][:4] = False  # hidden units with no inputs, behind a Dropout: kept unless constant 0
    apply_masks(seq, masks)
    small, small_masks, report = shrink(seq, masks)
    validate_masks(small, small_masks)
    assert [type(m) for m in small] == [type(m) for m in seq]
    assert small[0].out_channels < 8 and small[6].out_features < 20
    if padding == 0:  # a constant channel read by an unpadded conv is folded into its bias
        assert report["0"]["folded"] >= 1
    else:  # a nonzero constant read by a padded conv cannot be folded exactly: it stays
        assert report["0"]["folded"] == 0
    assert report["6"]["folded"] == 0  # behind a Dropout: never folded
    x = torch.rand(4, 1, 28, 28)
    seq.eval(), small.eval()
    torch.testing.assert_close(small(x), seq(x), rtol=1e-5, atol=1e-5)
    assert small(x).shape == (4, 5)


def test_every_unit_dead_keeps_one_and_stays_exact():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
    masks = {"2.weight": torch.zeros(2, 4, dtype=torch.bool)}
    apply_masks(seq, masks)
    small, _, report = shrink(seq, masks)
    assert small[0].out_features == 1 and report["0"]["units_after"] == 1
    x = torch.rand(3, 3)
    torch.testing.assert_close(small(x), seq(x))


def test_a_single_weight_layer_has_nothing_to_remove():
    seq = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    small, small_masks, report = shrink(seq, {"1.weight": torch.ones(2, 4, dtype=torch.bool)})
    assert report == {} and small is not seq and torch.equal(small[1].weight, seq[1].weight)


def test_unsupported_stacks_are_one_line_errors():
    full = lambda m: {}  # noqa: E731
    with pytest.raises(ConfigError, match=r"module 1 \(BatchNorm1d\) sits between weight layers 0 and 2"):
        shrink(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)), {})
    with pytest.raises(ConfigError, match="Linear layer 0 feeds conv layer 1"):
        shrink(nn.Sequential(nn.Linear(2, 3), nn.Conv1d(3, 2, 1)), {})
    with pytest.raises(ConfigError, match="grouped Conv2d"):
        shrink(nn.Sequential(nn.Conv2d(4, 4, 1, groups=2), nn.Conv2d(4, 2, 1)), full(None))
    with pytest.raises(ConfigError, match="physical removal supports MLP, ConvNet and nn.Sequential"):
        shrink(nn.Linear(2, 2), {})
