"""Every registered allocation: the per-layer counts sum to the budget, each layer keeps between
its floor (min_density) and its live weights, only survivors are kept, and within a layer the
best scores are the ones kept."""
import math

import torch

from sparsenet.allocation import allocate

SIZES = {"a": (6, 5), "b": (4, 6), "c": (3, 4)}  # 30, 24, 12 weights


def problem():
    g = torch.Generator().manual_seed(0)
    scores = {n: torch.rand(s, generator=g) for n, s in SIZES.items()}
    alive = {n: torch.rand(s, generator=g) < 0.8 for n, s in SIZES.items()}  # earlier pruning
    return scores, alive


def check_allocation(name: str, keep: int = 20, min_density: float = 0.1) -> None:
    scores, alive = problem()
    # budgets: the layers named get their own counts, `keep` is split over the others
    kwargs = {"budgets": {"c": 4}} if name == "budgets" else {}
    masks = allocate(scores, alive, method=name, keep=keep, min_density=min_density, **kwargs)
    assert set(masks) == set(SIZES)
    total = sum(int(m.sum()) for m in masks.values())
    assert total == keep + sum(kwargs.get("budgets", {}).values()), (name, total)
    for n, m in masks.items():
        assert m.dtype == torch.bool and m.shape == SIZES[n]
        assert not bool((m & ~alive[n]).any()), f"{name} revived weights in {n}"
        live = int(alive[n].sum())
        assert math.ceil(min_density * m.numel()) <= int(m.sum()) <= live, (name, n, int(m.sum()))
        if m.any() and (alive[n] & ~m).any():
            assert scores[n][m].min() >= scores[n][alive[n] & ~m].max(), (name, n)
    if name == "budgets":
        assert int(masks["c"].sum()) == 4


def test_allocation_contract(allocation):
    check_allocation(allocation)
