"""Interleaved timing: every contender's every phase runs once per round, rounds repeat, and the
minimum per phase is kept. Interleaving means a slow spell of the machine (another process, a
frequency change) hits all contenders alike instead of one of them."""
from __future__ import annotations

import time
from typing import Callable

Phases = dict[str, Callable[[], object]]


SETTLE_CALLS = 30  # warm-up calls at most spent letting kernel choices settle (3 candidates x 3 trials each, x3)


def time_interleaved(cases: dict[str, Phases], *, repeats: int = 5, warmup: int = 2,
                     min_seconds: float = 0.0) -> dict[str, dict[str, float]]:
    """{case: {phase: fn}} -> {case: {phase: min milliseconds over `repeats` rounds}}.

    Each fn is called `warmup` times first (compilation, allocator, caches), then again until the
    numba kernel choices its calls started have settled (`kernels.tuning`; at most SETTLE_CALLS
    more), so timed calls run the chosen kernels. A round repeats a fast fn until it has run
    `min_seconds` and keeps the mean of that batch, so sub-millisecond phases are not timer noise.
    """
    from ..kernels import tuning

    for phases in cases.values():
        for fn in phases.values():
            before = tuning.choosing()
            for _ in range(warmup):
                fn()
            for _ in range(SETTLE_CALLS):
                if tuning.choosing() <= before:
                    break
                fn()
    best: dict[str, dict[str, float]] = {c: {p: float("inf") for p in ph} for c, ph in cases.items()}
    for _ in range(repeats):
        for case, phases in cases.items():
            for phase, fn in phases.items():
                n, t0 = 0, time.perf_counter()
                while True:
                    fn()
                    n += 1
                    elapsed = time.perf_counter() - t0
                    if elapsed >= min_seconds:
                        break
                best[case][phase] = min(best[case][phase], elapsed / n * 1e3)
    return best
