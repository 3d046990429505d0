"""Statistics behind the report: live |w|, log-binned densities, Hill tail index, summary."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsenet.report.stats import (
    abs_values,
    default_hill_k,
    hill_estimator,
    hill_plot,
    log_histogram,
    summary,
)


def test_abs_values_mask_selects_live_entries_even_zero_ones():
    w = torch.tensor([[0.5, -0.0, -2.0], [0.0, 3.0, -0.125]])
    m = torch.tensor([[True, True, False], [False, True, True]])
    out = abs_values({"a": w}, {"a": m})
    # Row-major order of the live entries; -2.0 is pruned by the mask although nonzero.
    np.testing.assert_array_equal(out["a"], [0.5, 0.0, 3.0, 0.125])
    assert out["a"].dtype == np.float64


def test_abs_values_without_mask_drops_exact_zeros():
    w = np.array([0.0, -1.5, 2.0, -0.0, 1e-30])
    out = abs_values({"a": w, "b": torch.zeros(3)}, None)
    np.testing.assert_array_equal(out["a"], [1.5, 2.0, 1e-30])
    assert out["b"].size == 0


def test_abs_values_mask_missing_for_one_name_falls_back_to_zeros():
    out = abs_values({"a": np.array([0.0, 2.0]), "b": np.array([0.0, -3.0])},
                     {"a": np.array([True, False])})
    np.testing.assert_array_equal(out["a"], [0.0])
    np.testing.assert_array_equal(out["b"], [3.0])


def test_abs_values_mask_of_wrong_size_is_an_error():
    with pytest.raises(ValueError, match="mask 'a'"):
        abs_values({"a": np.ones(4)}, {"a": np.ones(3, dtype=bool)})


def test_log_histogram_hand_computed():
    edges, density = log_histogram([1.0, 10.0, 100.0, 0.0, -5.0], bins=2)
    np.testing.assert_allclose(edges, [1.0, 10.0, 100.0])
    # Non-positive values ignored; the last bin includes its right edge.
    np.testing.assert_allclose(density, [1 / (3 * 9), 2 / (3 * 90)])


def test_log_histogram_integrates_to_one_on_lognormal():
    x = np.random.default_rng(0).lognormal(mean=-3, sigma=2, size=5000)
    edges, density = log_histogram(x, bins=50)
    assert len(edges) == 51 and len(density) == 50
    assert np.all(np.diff(np.log(edges)) > 0)
    np.testing.assert_allclose(np.diff(np.log(edges))[1:-1], np.diff(np.log(edges))[1], rtol=1e-9)
    assert np.sum(density * np.diff(edges)) == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1e-12, max_value=1e12), min_size=1, max_size=200),
       st.integers(min_value=1, max_value=60))
def test_log_histogram_is_a_density_for_any_positive_sample(values, bins):
    edges, density = log_histogram(values, bins=bins)
    assert np.all(density >= 0)
    assert np.sum(density * np.diff(edges)) == pytest.approx(1.0, rel=1e-9)
    assert edges[0] <= min(values) and edges[-1] >= max(values)


def test_log_histogram_of_nothing_positive_is_empty():
    edges, density = log_histogram([0.0, -1.0])
    assert edges.size == 0 and density.size == 0


def test_hill_estimator_hand_computed():
    x = [8.0, 1.0, 4.0, 2.0, 1.0]
    # k=2: threshold x_(3)=2, mean(log 4, log 2) = 1.5 log 2.
    assert hill_estimator(x, k=2) == pytest.approx(1 / (1.5 * math.log(2)))
    # k=3: threshold x_(4)=1, mean(log 8, log 4, log 2) = 2 log 2.
    assert hill_estimator(x, k=3) == pytest.approx(1 / (2 * math.log(2)))
    # k larger than n-1 is clipped to n-1 = 4: threshold x_(5)=1, mean(3,2,1,0) log 2.
    assert hill_estimator(x, k=100) == pytest.approx(1 / (1.5 * math.log(2)))


@pytest.mark.parametrize("alpha", [1.5, 3.0])
def test_hill_estimator_recovers_pareto_tail_index(alpha):
    rng = np.random.default_rng(12345)
    x = rng.pareto(alpha, size=20000) + 1.0  # classical Pareto, x_m = 1, P(X>x) = x^-alpha
    est = hill_estimator(x)
    assert est == pytest.approx(alpha, rel=0.10)
    # A tail index does not depend on the unit of measurement.
    assert hill_estimator(7.0 * x) == pytest.approx(est, rel=1e-9)


def test_hill_estimator_separates_heavy_from_light_tails():
    rng = np.random.default_rng(1)
    heavy = hill_estimator(rng.pareto(1.0, 20000) + 1)
    light = hill_estimator(np.abs(rng.normal(size=20000)))
    assert heavy < 1.3 < 3 < light


def test_hill_estimator_nan_cases():
    assert math.isnan(hill_estimator([1.0, 2.0, 3.0]))  # too few values
    assert math.isnan(hill_estimator([0.0] * 100 + [1.0, 2.0]))  # zeros are not values
    assert math.isnan(hill_estimator([2.0] * 50))  # no tail at all
    with pytest.raises(ValueError):
        hill_estimator(np.arange(1.0, 20.0), k=0)


def test_default_hill_k():
    assert default_hill_k(100) == 10
    assert default_hill_k(20000) == 1000
    assert default_hill_k(6) == 5  # clipped to n - 1


def test_hill_plot_agrees_with_hill_estimator():
    x = np.random.default_rng(3).pareto(2.0, 3000) + 1
    ks, alphas = hill_plot(x, ks=[10, 150, 2999, 5000])
    np.testing.assert_array_equal(ks, [10, 150, 2999])  # 5000 > n-1 dropped
    for k, a in zip(ks, alphas):
        assert a == pytest.approx(hill_estimator(x, k=int(k)), rel=1e-9)
    ks, alphas = hill_plot(x)
    assert ks[0] == 10 and ks[-1] == 2999 and np.all(np.diff(ks) > 0)


def test_summary_hand_computed():
    s = summary([1.0, 2.0, 3.0, 4.0])
    assert s["n"] == 4
    assert s["mean"] == pytest.approx(2.5)
    assert s["median"] == pytest.approx(2.5)
    assert s["max"] == 4.0
    assert s["max_over_median"] == pytest.approx(1.6)
    assert s["kurtosis"] == pytest.approx(2.5625 / 1.5625 - 3)


def test_summary_heavy_tail_shows():
    rng = np.random.default_rng(0)
    heavy = summary(rng.pareto(1.2, 10000) + 1)
    light = summary(np.abs(rng.normal(size=10000)))
    assert heavy["max_over_median"] > 100 > 10 > light["max_over_median"]
    assert heavy["kurtosis"] > 10 > light["kurtosis"]


def test_summary_empty_and_constant():
    assert summary([])["n"] == 0 and math.isnan(summary([])["mean"])
    assert math.isnan(summary([2.0, 2.0])["kurtosis"])
