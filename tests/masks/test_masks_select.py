import pytest
import torch

from sparsenet.errors import ConfigError, SparsenetError
from sparsenet.masks import (
    budget_masks,
    count_live,
    full_masks,
    halving_masks,
    magnitude_scores,
    select_global,
    select_layerwise,
    topk_mask,
)
from sparsenet.models import MLP

T, F = True, False


def b(*values):
    return torch.tensor(values, dtype=torch.bool)


# ---------------------------------------------------------------------------------- topk


def test_topk_never_revives_dead_entries():
    scores = torch.tensor([9.0, 1.0, 8.0, 2.0, 3.0])
    alive = b(F, T, F, T, T)
    assert torch.equal(topk_mask(scores, alive, 2), b(F, F, F, T, T))


def test_topk_ties_lower_flat_index_wins():
    scores = torch.tensor([[1.0, 5.0, 5.0], [5.0, 0.0, 5.0]])  # flat: 1 5 5 5 0 5
    alive = torch.tensor([[T, F, T], [T, T, T]])
    # alive fives at flat 2, 3, 5: keep 2 -> flat 2 and 3
    assert torch.equal(topk_mask(scores, alive, 2), torch.tensor([[F, F, T], [T, F, F]]))
    assert torch.equal(topk_mask(torch.zeros(5), torch.ones(5, dtype=torch.bool), 3), b(T, T, T, F, F))


def test_topk_edges():
    alive = b(T, F, T)
    assert torch.equal(topk_mask(torch.tensor([1.0, 2.0, 3.0]), alive, 0), b(F, F, F))
    assert torch.equal(topk_mask(torch.tensor([1.0, 2.0, 3.0]), alive, 2), alive)
    # infinities are ordinary scores
    s = torch.tensor([float("-inf"), 0.0, float("inf"), -1.0])
    assert torch.equal(topk_mask(s, torch.ones(4, dtype=torch.bool), 2), b(F, T, T, F))
    # integer scores work
    assert torch.equal(topk_mask(torch.tensor([3, 1, 2]), torch.ones(3, dtype=torch.bool), 1), b(T, F, F))
    # empty
    assert topk_mask(torch.zeros(0, 4), torch.zeros(0, 4, dtype=torch.bool), 0).shape == (0, 4)


def test_topk_errors():
    s, alive = torch.tensor([1.0, 2.0, 3.0]), b(T, F, T)
    with pytest.raises(SparsenetError) as info:
        topk_mask(s, alive, 3)
    assert "3" in str(info.value) and "only 2" in str(info.value)
    with pytest.raises(SparsenetError, match=">= 0"):
        topk_mask(s, alive, -1)
    with pytest.raises(SparsenetError, match="integer"):
        topk_mask(s, alive, 1.0)
    with pytest.raises(SparsenetError, match="bool"):
        topk_mask(s, torch.ones(3), 1)
    with pytest.raises(SparsenetError, match="shape"):
        topk_mask(s, b(T, T), 1)
    with pytest.raises(SparsenetError, match="NaN"):
        topk_mask(torch.tensor([1.0, float("nan"), 0.0]), b(T, T, T), 1)
    # a NaN at a dead position is irrelevant
    assert torch.equal(topk_mask(torch.tensor([1.0, float("nan"), 0.0]), b(T, F, T), 1), b(T, F, F))


# ---------------------------------------------------------------------------- layerwise

SCORES = {"a": torch.tensor([1.0, 4.0, 2.0, 3.0, 6.0, 5.0, 0.0, 7.0]), "b": torch.tensor([[9.0, 8.0], [7.0, 6.0]])}


def test_layerwise_sparsity_relative_to_layer():
    alive = {"a": b(T, T, T, T, F, F, T, T), "b": b(T, T, T, T).reshape(2, 2)}
    out = select_layerwise(SCORES, alive, sparsity=0.5)
    # a: round(0.5 * 8) = 4 of the 6 alive (scores 1 4 2 3 0 7) -> 7, 4, 3, 2
    assert torch.equal(out["a"], b(F, T, T, T, F, F, F, T))
    # b: 2 of 4 -> 9, 8
    assert torch.equal(out["b"], torch.tensor([[T, T], [F, F]]))


def test_layerwise_sparsity_relative_to_alive():
    alive = {"a": b(T, T, T, T, F, F, T, T)}
    out = select_layerwise(SCORES, alive, sparsity=0.5, relative_to="alive")
    # round(0.5 * 6) = 3 -> 7, 4, 3
    assert torch.equal(out["a"], b(F, T, F, T, F, F, F, T))


def test_layerwise_too_few_survivors_names_layer():
    alive = {"a": b(T, F, F, F, F, F, F, T)}
    with pytest.raises(ConfigError) as info:
        select_layerwise(SCORES, alive, sparsity=0.5)
    msg = str(info.value)
    assert "'a'" in msg and "cannot keep 4" in msg and "only 2" in msg and "relative_to='alive'" in msg


def test_layerwise_keep_int_and_dict():
    out = select_layerwise(SCORES, keep=1)
    assert count_live({"a": out["a"]}) == 1 and bool(out["a"][7]) and bool(out["b"][0, 0])
    out = select_layerwise(SCORES, keep={"a": 3, "b": 0})
    assert torch.equal(out["a"], b(F, F, F, F, T, T, F, T))
    assert not bool(out["b"].any())
    with pytest.raises(ConfigError, match="missing"):
        select_layerwise(SCORES, keep={"a": 3})
    with pytest.raises(ConfigError, match="unknown"):
        select_layerwise(SCORES, keep={"a": 3, "b": 1, "c": 1})


def test_layerwise_sparsity_dict():
    out = select_layerwise(SCORES, sparsity={"a": 0.75, "b": 0.0})
    assert torch.equal(out["a"], b(F, F, F, F, F, F, F, T) | b(F, F, F, F, T, F, F, F))
    assert bool(out["b"].all())


def test_layerwise_rounding_is_python_round():
    scores = {"w": torch.arange(5.0)}
    # (1 - 0.5) * 5 = 2.5 -> round half to even -> 2; (1 - 0.3) * 5 = 3.5 -> 4
    assert count_live(select_layerwise(scores, sparsity=0.5)) == 2
    assert count_live(select_layerwise(scores, sparsity=0.3)) == 4
    # floating error must not drop a weight: (1 - 0.9) * 10 = 0.9999999999999998 -> 1
    assert count_live(select_layerwise({"w": torch.arange(10.0)}, sparsity=0.9)) == 1


def test_layerwise_ignores_extra_scores_and_needs_all_alive_scores():
    out = select_layerwise(SCORES, {"b": torch.ones(2, 2, dtype=torch.bool)}, keep=1)
    assert list(out) == ["b"]
    with pytest.raises(SparsenetError, match="no score for 'c'"):
        select_layerwise(SCORES, {"c": torch.ones(2, dtype=torch.bool)}, keep=1)
    with pytest.raises(SparsenetError, match="'a'"):
        select_layerwise(SCORES, {"a": torch.ones(3, dtype=torch.bool)}, keep=1)


@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5, float("nan"), "0.5", True, None])
def test_sparsity_must_be_in_unit_interval(bad):
    if bad is None:
        with pytest.raises(ConfigError, match="exactly one"):
            select_layerwise(SCORES)
        return
    for fn in (select_layerwise, select_global):
        with pytest.raises(ConfigError) as info:
            fn(SCORES, sparsity=bad)
        assert repr(bad) in str(info.value)
        assert "sparsity is the fraction of weights removed, in [0, 1)" in str(info.value)


def test_selection_argument_errors():
    with pytest.raises(ConfigError, match="exactly one"):
        select_layerwise(SCORES, sparsity=0.5, keep=1)
    with pytest.raises(ConfigError, match="exactly one"):
        select_global(SCORES)
    with pytest.raises(ConfigError, match="layer, alive"):
        select_layerwise(SCORES, sparsity=0.5, relative_to="total")
    with pytest.raises(ConfigError, match="layerwise"):
        select_global(SCORES, sparsity={"a": 0.5, "b": 0.5})


# ------------------------------------------------------------------------------- global


def test_global_hand_computed():
    # a: 1 4 2 3 6 5 0 7, b: 9 8 7 6 -> ranking 9(b) 8(b) 7(a) 7(b) 6(a) 6(b) 5(a) ...
    out = select_global(SCORES, keep=3)  # the tie at 7: the earlier layer a wins
    assert torch.equal(out["a"], b(F, F, F, F, F, F, F, T))
    assert torch.equal(out["b"], torch.tensor([[T, T], [F, F]]))
    out = select_global(SCORES, keep=5)  # the tie at 6: a wins again
    assert torch.equal(out["a"], b(F, F, F, F, T, F, F, T))
    assert torch.equal(out["b"], torch.tensor([[T, T], [T, F]]))
    # layer order is the order of the masks, not alphabetical
    alive = {"b": torch.ones(2, 2, dtype=torch.bool), "a": torch.ones(8, dtype=torch.bool)}
    out = select_global(SCORES, alive, keep=3)
    assert list(out) == ["b", "a"]
    assert not bool(out["a"].any()) and torch.equal(out["b"], torch.tensor([[T, T], [T, F]]))


def test_global_sparsity_and_alive():
    alive = {"a": b(T, T, T, T, T, T, T, F), "b": torch.tensor([[F, F], [T, T]])}
    # relative to all 12 weights: round(0.75 * 12) = 9 removed -> keep 3 of the 9 alive: 7(b), 6(a), 6(b)
    out = select_global(SCORES, alive, sparsity=0.75)
    assert torch.equal(out["a"], b(F, F, F, F, T, F, F, F))
    assert torch.equal(out["b"], torch.tensor([[F, F], [T, T]]))
    # relative to the 9 alive: keep round(0.25 * 9) = 2 -> 7(b), 6(a)
    out = select_global(SCORES, alive, sparsity=0.75, relative_to="alive")
    assert count_live(out) == 2 and bool(out["a"][4]) and bool(out["b"][1, 0])
    with pytest.raises(ConfigError, match="only 9 of 12"):
        select_global(SCORES, alive, keep=10)


def test_global_mixed_dtypes_and_empty():
    scores = {"h": torch.tensor([1.0, 3.0], dtype=torch.float16), "d": torch.tensor([2.0, 0.5], dtype=torch.float64)}
    out = select_global(scores, keep=2)
    assert torch.equal(out["h"], b(F, T)) and torch.equal(out["d"], b(T, F))
    assert select_global({}, keep=0) == {}


# ------------------------------------------------------------------------------- magnitude


def _net_with(w0, w1):
    net = MLP([len(w0[0]), len(w0), len(w1)])
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor(w0))
        net.layers[1].weight.copy_(torch.tensor(w1))
    return net


W0 = [[1.0, -6.0, 3.0, 0.5], [-4.0, 5.0, 2.0, -7.0]]  # |w| flat: 1 6 3 .5 4 5 2 7
W1 = [[2.0, -2.0], [0.1, 3.0]]  # |w| flat: 2 2 .1 3


def test_magnitude_scores():
    net = _net_with(W0, W1)
    scores = magnitude_scores(net)
    assert list(scores) == ["layers.0.weight", "layers.1.weight"]
    torch.testing.assert_close(scores["layers.0.weight"], torch.tensor(W0).abs())
    scores["layers.0.weight"][0, 0] = 100.0  # a copy: the model is untouched
    assert net.layers[0].weight[0, 0] == 1.0
    assert not scores["layers.1.weight"].requires_grad


def test_halving_times_hand_computed():
    net = _net_with(W0, W1)
    masks, rounds = halving_masks(net, times=1)
    assert rounds == 1
    # layer 0: 8 -> 4 largest: 7, 6, 5, 4
    assert torch.equal(masks["layers.0.weight"], torch.tensor([[F, T, F, F], [T, T, F, T]]))
    # layer 1: 4 -> 2: 3, then the tie 2 / 2 -> lower index (0, 0)
    assert torch.equal(masks["layers.1.weight"], torch.tensor([[T, F], [F, T]]))
    masks, rounds = halving_masks(net, times=3)
    # layer 0: 8 -> 4 -> 2 -> 1 (|w| = 7); layer 1: 4 -> 2 -> 1 -> 1 (ceil(1 / 2) = 1)
    assert rounds == 3
    assert torch.equal(masks["layers.0.weight"], torch.tensor([[F, F, F, F], [F, F, F, T]]))
    assert torch.equal(masks["layers.1.weight"], torch.tensor([[F, F], [F, T]]))


def test_halving_odd_counts_keep_ceil_half():
    net = _net_with(W0, W1)
    alive = {"layers.0.weight": torch.tensor([[T, T, T, F], [F, F, T, T]])}  # 5 alive: 1 6 3 2 7
    masks, _ = halving_masks(net, alive=alive, times=1)
    assert list(masks) == ["layers.0.weight"]
    # ceil(5 / 2) = 3: 7, 6, 3 (the median 3 survives)
    assert torch.equal(masks["layers.0.weight"], torch.tensor([[F, T, T, F], [F, F, F, T]]))


def test_halving_budget():
    net = _net_with(W0, W1)
    masks, rounds = halving_masks(net, budget=3)
    # layer 0: 8 -> 4 -> 2 (two rounds); layer 1: 4 -> 2 (one round, then stops)
    assert rounds == 2
    assert count_live({"a": masks["layers.0.weight"]}) == 2
    assert count_live({"b": masks["layers.1.weight"]}) == 2
    masks, rounds = halving_masks(net, budget={"layers.0.weight": 8, "layers.1.weight": 1})
    assert rounds == 2 and bool(masks["layers.0.weight"].all())
    assert torch.equal(masks["layers.1.weight"], torch.tensor([[F, F], [F, T]]))
    masks, rounds = halving_masks(net, budget=100)
    assert rounds == 0 and count_live(masks) == 12


def test_halving_times_zero_returns_alive():
    net = _net_with(W0, W1)
    alive = full_masks(net)
    alive["layers.1.weight"][0, 0] = False
    masks, rounds = halving_masks(net, alive=alive, times=0)
    assert rounds == 0
    assert all(torch.equal(masks[k], alive[k]) for k in alive)
    assert masks["layers.1.weight"] is not alive["layers.1.weight"]  # a copy


def test_halving_errors():
    net = _net_with(W0, W1)
    with pytest.raises(ConfigError, match="exactly one"):
        halving_masks(net)
    with pytest.raises(ConfigError, match="exactly one"):
        halving_masks(net, times=1, budget=2)
    with pytest.raises(ConfigError, match=">= 1"):
        halving_masks(net, budget=0)
    with pytest.raises(ConfigError, match=">= 0"):
        halving_masks(net, times=-1)
    with pytest.raises(ConfigError, match="not among names"):
        halving_masks(net, ["layers.0.weight"], alive=full_masks(net), times=1)


def test_budget_masks_layerwise():
    net = _net_with(W0, W1)
    masks = budget_masks(net, None, 3)
    assert torch.equal(masks["layers.0.weight"], torch.tensor([[F, T, F, F], [F, T, F, T]]))
    assert torch.equal(masks["layers.1.weight"], torch.tensor([[T, T], [F, T]]))
    masks = budget_masks(net, ["layers.1.weight"], {"layers.1.weight": 1})
    assert list(masks) == ["layers.1.weight"]
    assert torch.equal(masks["layers.1.weight"], torch.tensor([[F, F], [F, T]]))


def test_budget_masks_global():
    net = _net_with(W0, W1)
    masks = budget_masks(net, None, 4, scope="global")
    # overall |w|: 7, 6, 5, 4 all in layer 0
    assert torch.equal(masks["layers.0.weight"], torch.tensor([[F, T, F, F], [T, T, F, T]]))
    assert not bool(masks["layers.1.weight"].any())
    alive = full_masks(net)
    alive["layers.0.weight"][:] = False
    masks = budget_masks(net, None, 2, scope="global", alive=alive)
    assert torch.equal(masks["layers.1.weight"], torch.tensor([[T, F], [F, T]]))


def test_budget_masks_errors_name_layer_budget_size():
    net = _net_with(W0, W1)
    with pytest.raises(ConfigError) as info:
        budget_masks(net, None, 5)
    msg = str(info.value)
    assert "'layers.1.weight'" in msg and "5" in msg and "size 4" in msg
    alive = full_masks(net)
    alive["layers.0.weight"][0] = False
    with pytest.raises(ConfigError) as info:
        budget_masks(net, ["layers.0.weight"], 5, alive={"layers.0.weight": alive["layers.0.weight"]})
    msg = str(info.value)
    assert "'layers.0.weight'" in msg and "4 surviving" in msg and "size 8" in msg
    with pytest.raises(ConfigError, match=">= 1"):
        budget_masks(net, None, 0)
    with pytest.raises(ConfigError, match=">= 1"):
        budget_masks(net, None, -2, scope="global")
    with pytest.raises(ConfigError, match="12 surviving"):
        budget_masks(net, None, 13, scope="global")
    with pytest.raises(ConfigError, match="layerwise, global"):
        budget_masks(net, None, 1, scope="per_layer")
    with pytest.raises(ConfigError, match="dict"):
        budget_masks(net, None, {"layers.0.weight": 1, "layers.1.weight": 1}, scope="global")


def test_selection_does_not_modify_inputs():
    alive = {"a": b(T, T, T, T, T, T, T, T), "b": torch.ones(2, 2, dtype=torch.bool)}
    before = {k: v.clone() for k, v in alive.items()}
    scores_before = {k: v.clone() for k, v in SCORES.items()}
    select_layerwise(SCORES, alive, sparsity=0.5)
    select_global(SCORES, alive, sparsity=0.5)
    assert all(torch.equal(alive[k], before[k]) for k in alive)
    assert all(torch.equal(SCORES[k], scores_before[k]) for k in SCORES)
