"""Schedules: hand-computed levels, exact final sparsity and count-exactness for any step grid."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsenet.errors import ConfigError
from sparsenet.schedules import gradual, iterative, keep_count, make_schedule, one_shot


def test_one_shot():
    s = one_shot(0.9, at=5)
    assert s.levels() == [(5, 0.9)] and s.sparsity_at(4) == 0.0


def test_iterative_rate_per_round_by_hand():
    s = iterative(rate=0.5, rounds=3, every=10)
    assert s.levels() == [(0, 0.5), (10, 0.75), (20, 0.875)]
    t = iterative(0.9, rounds=2)
    assert t.rate == pytest.approx(1 - 0.1 ** 0.5)
    assert t.levels()[-1] == (1, 0.9)


def test_gradual_cubic_by_hand():
    s = gradual(0.8, start=0, end=100, every=50)
    assert s.steps() == [0, 50, 100]
    assert s.sparsity_at(50) == pytest.approx(0.8 - 0.8 * 0.5 ** 3)
    assert s.sparsity_at(100) == 0.8 and s.sparsity_at(1000) == 0.8


@settings(max_examples=200, deadline=None)
@given(target=st.floats(0.0, 0.999), start=st.integers(0, 50), length=st.integers(1, 500),
       every=st.integers(1, 97), n=st.integers(1, 300_000))
def test_gradual_final_count_is_exact_and_counts_never_grow(target, start, length, every, n):
    s = gradual(target, start=start, end=start + length, every=every)
    levels = s.levels()
    assert levels[-1] == (start + length, target)
    counts = [keep_count(v, n) for _, v in levels]
    assert counts[-1] == keep_count(target, n) == round((1 - target) * n)
    assert all(a >= b for a, b in zip(counts, counts[1:]))


@settings(max_examples=100, deadline=None)
@given(target=st.floats(0.0, 0.999), rounds=st.integers(1, 30), n=st.integers(1, 300_000))
def test_iterative_final_count_is_exact(target, rounds, n):
    levels = iterative(target, rounds=rounds).levels()
    assert levels[-1][1] == target
    counts = [keep_count(v, n) for _, v in levels]
    assert all(a >= b for a, b in zip(counts, counts[1:]))


def test_bad_schedules():
    with pytest.raises(ConfigError, match="unknown schedule 'cubic'; valid schedules: gradual, iterative, one-shot"):
        make_schedule("cubic", 0.9)
    with pytest.raises(ConfigError, match="invalid sparsity 1.0"):
        make_schedule("one-shot", 1.0)
    with pytest.raises(ConfigError, match="end > start"):
        gradual(0.5, start=10, end=10)
