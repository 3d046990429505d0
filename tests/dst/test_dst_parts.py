"""The parts of dynamic sparse training against hand-worked cases and dense references."""
import math

import pytest
import torch

from sparsenet.dst import (choose_drop, drop_fraction, er_density, layer_densities, random_inactive,
                           topk_inactive_dense, topk_inactive_product)
from sparsenet.errors import ConfigError


def test_drop_fraction_constant_and_cosine():
    assert drop_fraction(10, zeta=0.3, end_step=100) == 0.3
    assert drop_fraction(0, zeta=0.3, end_step=100, decay="cosine") == pytest.approx(0.3)
    assert drop_fraction(50, zeta=0.3, end_step=100, decay="cosine") == pytest.approx(0.15)
    assert drop_fraction(75, zeta=0.4, end_step=100, decay="cosine") == pytest.approx(0.2 * (1 + math.cos(0.75 * math.pi)))
    assert drop_fraction(100, zeta=0.3, end_step=100, decay="cosine") == 0.0


def test_er_density_and_cap():
    assert er_density(784, 1000, 20) == pytest.approx(20 * 1784 / 784000)
    assert er_density(1000, 10, 20) == 1.0  # 2.02 would exceed 1: made dense


def test_layer_densities_meet_the_overall_density():
    shapes = {"a": (300, 784), "b": (100, 300), "c": (10, 100)}
    size = {n: s[0] * s[1] for n, s in shapes.items()}
    for alloc in ("uniform", "er", "erk"):
        d = layer_densities(shapes, density=0.05, allocation=alloc)
        assert sum(d[n] * size[n] for n in d) == pytest.approx(0.05 * sum(size.values()))
        assert all(0 < v <= 1 for v in d.values())
    d = layer_densities(shapes, density=0.05, allocation="er")
    assert d["c"] > d["b"] > d["a"]  # smaller layers keep more
    # ER ratios: density ∝ (n_in + n_out)/(n_in n_out) among the layers below 1
    assert d["a"] / d["b"] == pytest.approx((1084 / 235200) / (400 / 30000))
    with pytest.raises(ConfigError, match="exactly one"):
        layer_densities(shapes)
    with pytest.raises(ConfigError, match="epsilon"):
        layer_densities(shapes, epsilon=0)


def test_choose_drop_magnitude_and_set_rule():
    v = torch.tensor([0.5, -0.1, 0.2, -0.9, 0.05, -0.3, 0.7, 0.01])
    d = choose_drop(v, 0.25, "magnitude")  # 2 smallest |w|: 0.01 and 0.05
    assert d.tolist() == [False, False, False, False, True, False, False, True]
    # SET: 25% of the 5 positives (round(1.25) = 1: 0.01) and of the 3 negatives (round(0.75) = 1: -0.1)
    d = choose_drop(v, 0.25, "set")
    assert d.tolist() == [False, True, False, False, False, False, False, True]
    assert int(choose_drop(v, 0.25, "magnitude", count=5).sum()) == 5
    # an exact zero counts as the smallest positive: never an absorbing state
    z = torch.tensor([0.0, 0.3, 0.2, -0.5])
    assert choose_drop(z, 0.34, "set").tolist() == [True, False, False, False]
    with pytest.raises(ConfigError, match="drop rule"):
        choose_drop(v, 0.2, "largest")


def test_random_inactive_avoids_live_and_is_uniform():
    live = torch.tensor([0, 3, 4, 9, 10, 11, 50, 99])
    g = torch.Generator().manual_seed(0)
    counts = torch.zeros(100)
    for _ in range(300):
        keys = random_inactive(100, live, 10, g)
        assert keys.numel() == 10 and keys.unique().numel() == 10
        assert not bool(torch.isin(keys, live).any())
        assert bool((keys[1:] > keys[:-1]).all())
        counts[keys] += 1
    assert counts[live].sum() == 0
    free = counts[~torch.isin(torch.arange(100), live)]
    assert free.min() > 10 and free.max() < 60  # ~32 each: uniform, not clustered
    assert random_inactive(10, torch.arange(8), 5, g).tolist() == [8, 9]  # only 2 free: all of them


@pytest.mark.parametrize("tile", [7, 64, 1 << 22])
def test_topk_inactive_product_matches_the_dense_gradient(tile):
    g = torch.Generator().manual_seed(1)
    A, X = torch.randn(16, 9, generator=g), torch.randn(16, 13, generator=g)
    dense = (A.t() @ X).abs().reshape(-1)
    live = torch.randperm(9 * 13, generator=g)[:40].sort().values
    want_scores = dense.clone()
    want_scores[live] = -1
    want = torch.topk(want_scores, 25).indices.sort().values
    got = topk_inactive_product(A, X, live, 25, tile=tile)
    assert got.tolist() == want.tolist()
    assert topk_inactive_dense(A.t() @ X, live, 25).tolist() == want.tolist()


def test_topk_breaks_ties_toward_lower_keys():
    A = torch.zeros(4, 3)
    A[:, 0] = 1.0  # only row 0 has a gradient; rows 1, 2 tie at 0
    X = torch.ones(4, 5)
    live = torch.tensor([1, 2])
    got = topk_inactive_product(A, X, live, 5, tile=5)
    assert got.tolist() == [0, 3, 4, 5, 6]  # row 0's free columns, then the lowest tied keys


def test_topk_on_a_large_layer_takes_the_sampled_threshold_path_and_stays_exact():
    g = torch.Generator().manual_seed(5)
    A, X = torch.randn(32, 300, generator=g), torch.randn(32, 400, generator=g)  # 120,000 positions
    live = torch.randperm(120_000, generator=g)[:6_000].sort().values
    score = (A.t() @ X).abs().reshape(-1)
    score[live] = -1
    for k in (1, 700, 5_000, 30_000):
        want = torch.topk(score, k).indices.sort().values
        assert topk_inactive_product(A, X, live, k).tolist() == want.tolist(), k
        assert topk_inactive_product(A, X, live, k, tile=50_000).tolist() == want.tolist(), k
