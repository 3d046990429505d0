"""Helpers the benchmark scripts share (imported as `_common`: each script runs from this folder)."""
from __future__ import annotations

import time


def min_ms(fn, reps: int) -> float:
    """The fastest of `reps` calls of fn, in milliseconds."""
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def ints(text: str) -> list[int]:
    """"128,256" -> [128, 256] (an argparse type)."""
    return [int(v) for v in text.split(",")]
