"""IMP: exact counts per level, the output-layer rate, global scope, rewinding, bad rates/levels."""
import pytest
import torch

from sparsenet.errors import ConfigError, SparsenetError
from sparsenet.lottery import LevelError, PruneRateError, check_rate, level_counts, prune_level, rewind
from sparsenet.models import MLP


def test_level_counts_by_hand():
    # 100 -> round(80) -> round(64) -> round(51.2)=51 ; output 10 -> 9 -> round(8.1)=8 -> round(7.2)=7
    assert level_counts({"a": 100, "out": 10}, 3, 0.2, 0.1) == [
        {"a": 100, "out": 10}, {"a": 80, "out": 9}, {"a": 64, "out": 8}, {"a": 51, "out": 7}]


def test_lenet_levels_7_and_12_are_about_21_and_7_percent():
    sizes = {"l0": 784 * 300, "l1": 300 * 100, "l2": 100 * 10}
    counts = level_counts(sizes, 12, 0.2, 0.1)
    total = sum(sizes.values())
    assert abs(sum(counts[7].values()) / total - 0.211) < 0.002
    assert abs(sum(counts[12].values()) / total - 0.0695) < 0.002


def test_level_that_empties_a_layer_is_refused():
    # 3 -> round(1.5)=2 -> round(1.0)=1 -> round(0.5)=0 at level 3
    with pytest.raises(LevelError, match=r"--levels 3 would empty layer 'a' at level 3.*at most --levels 2"):
        level_counts({"a": 3}, 3, 0.5)
    assert isinstance(LevelError("x"), SparsenetError) and isinstance(LevelError("x"), ConfigError)


@pytest.mark.parametrize("rate", [0, 1, 1.5, -0.1, True])
def test_rate_outside_open_unit_interval(rate):
    with pytest.raises(PruneRateError, match="outside \\(0, 1\\)"):
        check_rate(rate)


def test_prune_level_layerwise_keeps_top_survivors_exactly():
    scores = {"a": torch.tensor([5., 4., 3., 2., 1.]), "out": torch.tensor([1., 2., 3., 4.])}
    alive = {"a": torch.tensor([True, False, True, True, True]), "out": torch.ones(4, dtype=torch.bool)}
    m = prune_level(scores, alive, 0.5, 0.25)
    # a: 4 alive -> keep 2 of {5,3,2,1} -> indices 0, 2 ; out: keep round(3) -> 2, 3, 4 -> indices 1..3
    assert m["a"].tolist() == [True, False, True, False, False]
    assert m["out"].tolist() == [False, True, True, True]


def test_prune_level_global_ranks_hidden_together_output_apart():
    scores = {"a": torch.tensor([1., 2.]), "b": torch.tensor([10., 20.]), "out": torch.tensor([3., 1.])}
    alive = {k: torch.ones(2, dtype=torch.bool) for k in scores}
    m = prune_level(scores, alive, 0.5, 0.5, scope="global")
    assert m["a"].tolist() == [False, False] and m["b"].tolist() == [True, True]
    assert m["out"].tolist() == [True, False]


def test_rewind_loads_state_and_zeroes_pruned():
    torch.manual_seed(0)
    net, other = MLP([3, 2]), MLP([3, 2])
    state = {k: v.clone() for k, v in other.state_dict().items()}
    mask = {"layers.0.weight": torch.tensor([[True, False, True], [False, True, True]])}
    rewind(net, state, mask)
    w = net.layers[0].weight.detach()
    assert torch.equal(w, state["layers.0.weight"] * mask["layers.0.weight"])
    assert torch.equal(net.layers[0].bias.detach(), state["layers.0.bias"])
