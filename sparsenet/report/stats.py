"""Statistics of weight and gradient magnitudes: live |w|, log-binned densities, tail index.

The tail index is the Hill (1975) estimator: for the order statistics
x_(1) >= x_(2) >= ... >= x_(n) of a sample whose tail decays like P(X > x) ~ x^-alpha,

    alpha_hat = 1 / ( (1/k) * sum_{i=1..k} log(x_(i) / x_(k+1)) ).

Small alpha means a heavy tail (a few very large magnitudes); a Gaussian-like sample gives
large alpha estimates that keep growing with n.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

# Below this many positive values a tail index is noise, not a measurement.
MIN_HILL_VALUES = 5


def _to_numpy(x: Any) -> np.ndarray:
    """A float64 numpy copy of a torch tensor, numpy array or sequence."""
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch here
        x = x.detach().cpu()
        if str(x.dtype) in ("torch.bfloat16", "torch.float16"):
            x = x.float()
        x = x.numpy()
    return np.asarray(x, dtype=np.float64)


def abs_values(
    weights: Mapping[str, Any], masks: Mapping[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """Flattened |w| of the live entries of each tensor, as 1-D float64 arrays.

    An entry is live where the mask of the same name is True. Without a mask for a name
    (or with `masks=None`) exact zeros are taken as pruned and dropped: a trained float
    weight is exactly 0 only when something set it there.
    """
    out: dict[str, np.ndarray] = {}
    for name, w in weights.items():
        a = np.abs(_to_numpy(w)).ravel()
        mask = None if masks is None else masks.get(name)
        if mask is not None:
            m = _to_numpy(mask).astype(bool).ravel()
            if m.shape != a.shape:
                raise ValueError(
                    f"mask {name!r} has {m.size} entries but the tensor has {a.size}"
                )
            a = a[m]
        else:
            a = a[a != 0.0]
        out[name] = a[np.isfinite(a)]
    return out


def log_histogram(values: Any, bins: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the positive values on `bins` log-spaced bins.

    Returns (edges, density) with len(edges) == bins + 1. The density is per unit of the
    value (count / (n * bin width)), so sum(density * diff(edges)) == 1 and curves of samples
    of different sizes lie on top of each other on log-log axes. Non-positive values are
    ignored; with no positive value both arrays are empty.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    x = _to_numpy(values).ravel()
    x = x[np.isfinite(x) & (x > 0)]
    if x.size == 0:
        return np.empty(0), np.empty(0)
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:  # all equal: give the single value a narrow bin around it
        lo, hi = lo / 1.01, hi * 1.01
    edges = np.logspace(math.log10(lo), math.log10(hi), bins + 1)
    # logspace can miss the extremes by an ulp; pin them so every value is counted.
    edges[0], edges[-1] = min(edges[0], x.min()), max(edges[-1], x.max())
    counts, _ = np.histogram(x, bins=edges)
    density = counts / (x.size * np.diff(edges))
    return edges, density


def default_hill_k(n: int) -> int:
    """The default number of upper order statistics: max(10, 5% of n), at most n - 1."""
    return max(1, min(max(10, int(0.05 * n)), n - 1))


def hill_estimator(values: Any, k: int | None = None) -> float:
    """Hill (1975) tail index alpha of the largest `k` positive values.

    alpha = 1 / mean_{i<=k} log(x_(i) / x_(k+1)) with x_(1) >= x_(2) >= ... the sorted
    sample (B. M. Hill, "A simple general approach to inference about the tail of a
    distribution", Annals of Statistics 3(5), 1975). Default k = max(10, 5% of n); k is
    clipped to n - 1. Returns nan with fewer than MIN_HILL_VALUES positive values, or when
    the top k + 1 values are all equal (no tail to measure).
    """
    x = _to_numpy(values).ravel()
    x = x[np.isfinite(x) & (x > 0)]
    n = x.size
    if n < MIN_HILL_VALUES:
        return math.nan
    if k is None:
        k = default_hill_k(n)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    k = min(int(k), n - 1)
    # Only the top k + 1 values matter; partition instead of a full sort. After it,
    # part[n-k-1] is x_(k+1) and part[n-k:] are the k largest values.
    part = np.partition(x, n - k - 1)
    threshold = part[n - k - 1]
    mean_log = float(np.mean(np.log(part[n - k :] / threshold)))
    if mean_log <= 0.0:
        return math.nan
    return 1.0 / mean_log


def hill_plot(values: Any, ks: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(ks, alphas): the Hill estimate as a function of k, to see where it is stable.

    Default ks: about 30 log-spaced values from 10 to n - 1.
    """
    x = _to_numpy(values).ravel()
    x = np.sort(x[np.isfinite(x) & (x > 0)])[::-1]
    n = x.size
    if n < MIN_HILL_VALUES:
        return np.empty(0, dtype=int), np.empty(0)
    if ks is None:
        ks = np.unique(np.geomspace(min(10, n - 1), n - 1, num=30).astype(int))
    ks = np.asarray([k for k in np.asarray(ks, dtype=int) if 1 <= k <= n - 1], dtype=int)
    logs = np.log(x)
    cum = np.cumsum(logs)  # cum[k-1] = sum of the k largest logs
    mean_log = cum[ks - 1] / ks - logs[ks]
    alphas = np.full(ks.size, np.nan)
    ok = mean_log > 0
    alphas[ok] = 1.0 / mean_log[ok]
    return ks, alphas


def summary(values: Any) -> dict[str, float]:
    """n, mean, median, max, max/median and excess kurtosis of a sample.

    Heavy tails show as max/median far above what a Gaussian sample of the same size gives
    (a few units) and as large positive excess kurtosis (0 for a Gaussian).
    """
    x = _to_numpy(values).ravel()
    x = x[np.isfinite(x)]
    n = int(x.size)
    nan = math.nan
    if n == 0:
        return {"n": 0, "mean": nan, "median": nan, "max": nan, "max_over_median": nan,
                "kurtosis": nan}
    mean = float(x.mean())
    median = float(np.median(x))
    mx = float(x.max())
    centred = x - mean
    var = float(np.mean(centred**2))
    kurt = float(np.mean(centred**4) / var**2 - 3.0) if var > 0 else nan
    return {
        "n": n,
        "mean": mean,
        "median": median,
        "max": mx,
        "max_over_median": mx / median if median > 0 else nan,
        "kurtosis": kurt,
    }


def format_mean_std(stat: Mapping[str, Any], scale: float = 1.0, spec: str = ".2f",
                    missing: str = "—") -> str:
    """"mean ± std" of a ``{"mean", "std", "n"}`` record (sample std), scaled by `scale`.

    One value (n = 1, or a std that is not finite) shows the mean alone: a single seed has
    no spread to report, and "± 0.00" would claim one. No value shows `missing`.
    """
    mean, std, n = stat.get("mean"), stat.get("std"), stat.get("n", 0)
    if not n or not isinstance(mean, (int, float)) or not math.isfinite(mean):
        return missing
    text = f"{scale * mean:{spec}}"
    if n > 1 and isinstance(std, (int, float)) and math.isfinite(std):
        text += f" ± {scale * std:{spec}}"
    return text
