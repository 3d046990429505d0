"""output_first_masks: the output layer is selected first, then each earlier layer only on the
units that still feed the next one, so the live total is the sum of the budgets."""
import pytest
import torch

from sparsenet.errors import ConfigError
from sparsenet.experiments.train.pruning import check_prune_feasible, select_masks
from sparsenet.experiments.train.config import TrainConfig
from sparsenet.masks.output_first import output_first_masks
from sparsenet.models import MLP


def net_3_2_2():
    net = MLP([3, 2, 2])
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[9., 8., 7.], [1., 2., 3.]]))
        net.layers[1].weight.copy_(torch.tensor([[0.1, 5.], [0.2, -4.]]))
    return net


def test_hidden_weights_follow_the_units_that_keep_an_output():
    m = output_first_masks(net_3_2_2(), {"layers.0.weight": 2, "layers.1.weight": 2})
    # |W1| = [[.1, 5], [.2, 4]]: the top two both read unit 1, so unit 0 is dropped entirely
    # and unit 1's inputs are kept even though unit 0's are larger (9, 8 > 3, 2).
    assert m["layers.1.weight"].tolist() == [[False, True], [False, True]]
    assert m["layers.0.weight"].tolist() == [[False, False, False], [False, True, True]]
    assert list(m) == ["layers.0.weight", "layers.1.weight"]


def test_halving_rule_keeps_at_most_the_budget_among_connected_units():
    m = output_first_masks(net_3_2_2(), {"layers.0.weight": 2, "layers.1.weight": 3}, rule="halving")
    # Output: 4 -> 2 live (ceil(4/2) <= 3): |w| 5 and 4, unit 1 only. Hidden: unit 1's 3 -> 2.
    assert m["layers.1.weight"].tolist() == [[False, True], [False, True]]
    assert m["layers.0.weight"].tolist() == [[False, False, False], [False, True, True]]


def test_a_layer_not_named_stays_dense_and_reopens_all_rows():
    net = MLP([3, 2, 2, 2])
    m = output_first_masks(net, {"layers.0.weight": 1, "layers.2.weight": 1})
    assert "layers.1.weight" not in m and int(m["layers.0.weight"].sum()) == 1


def test_errors_name_the_problem():
    with pytest.raises(ConfigError, match="must include the output layer 'layers.1.weight'"):
        output_first_masks(net_3_2_2(), {"layers.0.weight": 2})
    with pytest.raises(ConfigError, match="more than its 3 weights on units that keep an output"):
        output_first_masks(net_3_2_2(), {"layers.0.weight": 4, "layers.1.weight": 1})
    with pytest.raises(ConfigError, match="unknown rule 'sparsity'"):
        output_first_masks(net_3_2_2(), {"layers.1.weight": 1}, rule="sparsity")


def test_train_config_output_budget_prunes_the_output_layer_despite_skip_last():
    torch.manual_seed(0)
    net = MLP([20, 16, 4])
    cfg = TrainConfig(spec="20-16-4", rule="budget", budget=30, output_budget=8)  # default skip: last
    check_prune_feasible(net, cfg)
    masks, _ = select_masks(net, cfg)
    assert {n: int(m.sum()) for n, m in masks.items()} == {"layers.0.weight": 30, "layers.1.weight": 8}
    feeds = masks["layers.1.weight"].any(dim=0)
    assert not masks["layers.0.weight"][~feeds].any()  # no hidden weight on a unit without output


def test_train_config_output_budget_checks():
    net = MLP([20, 16, 4])
    # 8 output weights over 4 classes can cover as few as 2 units: 2 x 20 = 40 hidden weights sure.
    with pytest.raises(ConfigError, match=r"--budget 41 may not fit layer layers.0.weight: .* only 40"):
        check_prune_feasible(net, TrainConfig(spec="20-16-4", rule="budget", budget=41, output_budget=8))
    with pytest.raises(ConfigError, match="--output-budget 65 is larger than layer layers.1.weight"):
        check_prune_feasible(net, TrainConfig(spec="20-16-4", rule="budget", budget=10, output_budget=65))
    with pytest.raises(ConfigError, match="--output-budget 8 needs --rule budget or halving"):
        TrainConfig(rule="sparsity", sparsity=0.5, output_budget=8).validate()
