"""Pruning that would leave a layer without weights, or no input-output path, is refused."""
from types import SimpleNamespace

import pytest
import torch

from sparsenet.errors import ConfigError
from sparsenet.experiments.feasibility import check_keeps_weights, check_pruned, max_sparsity
from sparsenet.experiments.train.run import run_train
from sparsenet.experiments.train.config import TrainConfig
from sparsenet.models import MLP


def cfg(**kw):
    base = dict(prune="magnitude", rule="sparsity", sparsity=None, scope="layerwise", budget=None)
    return SimpleNamespace(**{**base, **kw})


def test_max_sparsity_is_the_shortest_decimal_that_still_keeps_one_weight():
    # 1024 weights: round(0.001 * 1024) = 1, round(0.0001 * 1024) = 0
    assert max_sparsity(1024) == 0.999
    # 160 weights: 1 - 1/160 = 0.99375; 0.99 keeps round(1.6) = 2, 0.993 keeps round(1.12) = 1
    assert max_sparsity(160) == 0.993
    assert max_sparsity(30000, need=3) == 0.9999


def test_layerwise_sparsity_keeping_zero_weights_is_refused_with_the_limit():
    sizes = {"a.weight": 1024, "b.weight": 256}
    check_keeps_weights(sizes, cfg(sparsity=0.996))  # keeps round(4.1) = 4 and round(1.02) = 1
    with pytest.raises(ConfigError) as e:
        check_keeps_weights(sizes, cfg(sparsity=0.999))  # b keeps round(0.256) = 0
    assert str(e.value) == ("--sparsity 0.999 keeps 0 of the 256 weights of b.weight (every pruned layer must "
                            "keep >= 1 weight); use --sparsity <= 0.996")


def test_global_sparsity_must_leave_one_weight_per_layer():
    sizes = {"a.weight": 1000, "b.weight": 1000}
    check_keeps_weights(sizes, cfg(sparsity=0.999, scope="global"))  # keeps 2
    with pytest.raises(ConfigError, match=r"keeps 1 of the 2000 weights of the 2 pruned layers.*<= 0\.999$"):
        check_keeps_weights(sizes, cfg(sparsity=0.9995, scope="global"))


def test_global_budget_below_the_layer_count_is_refused():
    sizes = {"a.weight": 10, "b.weight": 10, "c.weight": 10}
    with pytest.raises(ConfigError, match=r"--budget 2 with --scope global .* use --budget >= 3"):
        check_keeps_weights(sizes, cfg(rule="budget", budget=2, scope="global"))
    check_keeps_weights(sizes, cfg(rule="budget", budget=3, scope="global"))
    check_keeps_weights(sizes, cfg(prune="none", rule="budget", budget=1, scope="global"))


def test_an_emptied_layer_and_a_cut_network_are_named():
    with pytest.raises(ConfigError, match=r"kept no weight in b"):
        check_pruned({"a": torch.tensor([True, False]), "b": torch.tensor([False, False])})
    check_pruned({"a": torch.tensor([True, False])}, MLP([2, 1, 1]))
    with pytest.raises(ConfigError, match=r"no path from input to output: no hidden unit after layers\.1"):
        check_pruned({"layers.0.weight": torch.ones(3, 2, dtype=torch.bool)}, MLP([2, 3, 0, 1]))


def test_train_refuses_a_cut_network_in_one_line_instead_of_a_reshape_traceback(tmp_path):
    # one weight per layer of 64-16-16-10 (output layer dense): they meet on a hidden unit only by luck;
    # at seed 0 they do not (the sparse layer would have had in_features 0)
    c = TrainConfig(dataset="synthetic", spec="64-16-16-10", rule="budget", budget=1, burnin_steps=0, steps=5,
                    run_dir=str(tmp_path / "run"), progress=False)
    with pytest.raises(ConfigError, match=r"pruning left no path from input to output"):
        run_train(c)
    # keeping the units (no removal) trains the cut network rather than failing
    r = run_train(TrainConfig(**{**c.__dict__, "remove_unconnected": False, "run_dir": str(tmp_path / "r2")}))
    assert r["live_weights"] == 1 + 1 + 160
