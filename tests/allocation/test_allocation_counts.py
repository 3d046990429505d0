"""Allocations: uniform, global, ERK/ER, floors, budgets — counts by hand and exact totals."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsenet.allocation import allocate, distribute, erk_factor, layer_counts
from sparsenet.errors import ConfigError


def scores():
    g = torch.Generator().manual_seed(0)
    return {"a": torch.rand(30, 20, generator=g), "b": torch.rand(10, 30, generator=g), "c": torch.rand(3, 10, generator=g)}


def live(m):
    return {k: int(v.sum()) for k, v in m.items()}


def test_uniform_keeps_the_same_fraction_of_every_layer():
    assert live(allocate(scores(), method="uniform", sparsity=0.9)) == {"a": 60, "b": 30, "c": 3}


def test_global_picks_the_best_overall_and_floors_reserve_per_layer():
    s = {"a": torch.tensor([1.0, 4.0, 2.0, 3.0]), "b": torch.tensor([9.0, 8.0])}
    m = allocate(s, method="global", sparsity=0.5)
    assert m["a"].tolist() == [False, True, False, False] and m["b"].tolist() == [True, True]
    m = allocate(s, method="global", sparsity=0.5, min_density=0.5)
    assert m["a"].tolist() == [False, True, False, True] and m["b"].tolist() == [True, False]


def test_erk_factor_by_hand():
    assert erk_factor((10, 20)) == pytest.approx(30 / 200)
    assert erk_factor((8, 4, 3, 3)) == pytest.approx((8 + 4 + 3 + 3) / (8 * 4 * 9))
    assert erk_factor((8, 4, 3, 3), kernel=False) == pytest.approx(12 / 32)


def test_erk_counts_follow_the_factors_and_sum_exactly():
    s = scores()
    c = layer_counts(s, {k: torch.ones_like(v, dtype=torch.bool) for k, v in s.items()}, method="erk", sparsity=0.9)
    assert sum(c.values()) == round(0.1 * 930)
    # count_l ∝ (n_in + n_out): a 50, b 40, c 13 -> 93 · (50, 40, 13) / 103
    assert c == {"a": 45, "b": 36, "c": 12}


def test_erk_caps_a_layer_at_dense_and_redistributes():
    s = {"big": torch.rand(100, 100), "tiny": torch.rand(2, 2)}
    c = layer_counts(s, {k: torch.ones_like(v, dtype=torch.bool) for k, v in s.items()}, method="erk", sparsity=0.5)
    assert c["tiny"] == 4 and c["big"] == round(0.5 * 10004) - 4


def test_budgets_by_sparsity_or_count_and_unknown_names():
    m = allocate(scores(), method="budgets", budgets={"a": 0.5, "c": 5}, sparsity=0.9)
    assert live(m) == {"a": 300, "b": 30, "c": 5}
    with pytest.raises(ConfigError, match="budget names unknown layer 'fc9'; layers: a, b, c"):
        allocate(scores(), method="budgets", budgets={"fc9": 0.5})


def test_unknown_allocation_lists_valid_ones():
    with pytest.raises(ConfigError, match="unknown allocation 'erdos'; valid allocations: budgets, er, erk, global, uniform"):
        allocate(scores(), method="erdos", sparsity=0.5)


def test_floors_larger_than_the_target_are_refused():
    with pytest.raises(ConfigError, match="min_density=0.5 needs"):
        allocate(scores(), method="global", sparsity=0.9, min_density=0.5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.floats(0.0, 5.0)), min_size=1, max_size=6), st.data())
def test_distribute_is_exact_and_within_bounds(layers, data):
    names = [f"l{i}" for i in range(len(layers))]
    hi = {n: h for n, (h, _) in zip(names, layers)}
    weights = {n: w for n, (_, w) in zip(names, layers)}
    lo = {n: data.draw(st.integers(0, hi[n])) for n in names}
    total = data.draw(st.integers(sum(lo.values()), sum(hi.values())))
    c = distribute(total, weights, lo, hi)
    assert sum(c.values()) == total
    assert all(lo[n] <= c[n] <= hi[n] for n in names)
