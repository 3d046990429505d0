"""The three claims of the seed figure, checked against measured numbers.

(a) accuracy: sparse test accuracy is within ACC_TOLERANCE_POINTS percentage points of
    dense (|sparse - dense| <= 2) at every width >= ACC_MIN_WIDTH;
(b) speed-up: dense / sparse training time >= MIN_SPEEDUP at the largest width;
(c) flat cost: sparse training time at the largest width <= MAX_SPARSE_GROWTH x sparse
    time at the smallest width (the fixed budget makes sparse cost ~independent of width).

"Largest" and "smallest" are over every width in the table. A claim whose widths lack a
number (a run missing or diverged) is "n/a" rather than silently judged on other widths;
a failure among the widths that are there is still a FAIL.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .seedtable import WidthTable, speedup

ACC_MIN_WIDTH = 32
ACC_TOLERANCE_POINTS = 2.0
MIN_SPEEDUP = 20.0
MAX_SPARSE_GROWTH = 2.0

PASS, FAIL, NA = "PASS", "FAIL", "n/a"


@dataclass(frozen=True)
class Claim:
    """One checked claim: what it says, PASS / FAIL / n/a, and the numbers behind it."""

    key: str
    statement: str
    status: str
    detail: str


def _value(table: WidthTable, width: int, variant: str, field: str) -> float:
    cell = table.get(width, {}).get(variant)
    return math.nan if cell is None else getattr(cell, field)


def check_accuracy(table: WidthTable) -> Claim:
    statement = (f"sparse accuracy within {ACC_TOLERANCE_POINTS:g} points of dense at every "
                 f"width ≥ {ACC_MIN_WIDTH}")
    widths = [w for w in table if w >= ACC_MIN_WIDTH]
    if not widths:
        return Claim("a", statement, NA, f"no width ≥ {ACC_MIN_WIDTH} was run")
    parts, failed, missing = [], False, False
    for w in widths:
        dense = _value(table, w, "dense", "accuracy")
        sparse = _value(table, w, "sparse", "accuracy")
        if math.isnan(dense) or math.isnan(sparse):
            missing = True
            parts.append(f"width {w}: " + ("no dense accuracy" if math.isnan(dense)
                                            else "no sparse accuracy"))
            continue
        delta = sparse - dense
        bad = abs(delta) > ACC_TOLERANCE_POINTS
        failed |= bad
        parts.append(f"width {w}: {sparse:.2f} vs {dense:.2f} (Δ {delta:+.2f}"
                     + (", outside" if bad else "") + ")")
    status = FAIL if failed else NA if missing else PASS
    return Claim("a", statement, status, "; ".join(parts))


def check_speedup(table: WidthTable) -> Claim:
    statement = f"dense/sparse training-time ratio ≥ {MIN_SPEEDUP:g} at the largest width"
    if not table:
        return Claim("b", statement, NA, "no runs")
    w = max(table)
    dense = _value(table, w, "dense", "seconds")
    sparse = _value(table, w, "sparse", "seconds")
    if math.isnan(dense) or math.isnan(sparse):
        which = "dense" if math.isnan(dense) else "sparse"
        return Claim("b", statement, NA, f"width {w}: no {which} training time")
    ratio = speedup(table[w])
    if math.isnan(ratio):
        return Claim("b", statement, NA, f"width {w}: sparse training time is {sparse:g} s")
    status = PASS if ratio >= MIN_SPEEDUP else FAIL
    return Claim("b", statement, status,
                 f"width {w}: dense {dense:.2f} s / sparse {sparse:.2f} s = {ratio:.1f}×")


def check_sparse_growth(table: WidthTable) -> Claim:
    statement = (f"sparse time at the largest width ≤ {MAX_SPARSE_GROWTH:g}× sparse time at "
                 "the smallest width")
    if len(table) < 2:
        return Claim("c", statement, NA, "needs at least two widths")
    lo, hi = min(table), max(table)
    t_lo = _value(table, lo, "sparse", "seconds")
    t_hi = _value(table, hi, "sparse", "seconds")
    missing = [w for w, t in ((lo, t_lo), (hi, t_hi)) if math.isnan(t)]
    if missing:
        return Claim("c", statement, NA,
                     "no sparse training time at width " + ", ".join(map(str, missing)))
    if t_lo <= 0:
        return Claim("c", statement, NA, f"width {lo}: sparse training time is {t_lo:g} s")
    growth = t_hi / t_lo
    status = PASS if growth <= MAX_SPARSE_GROWTH else FAIL
    return Claim("c", statement, status,
                 f"width {hi}: {t_hi:.2f} s vs width {lo}: {t_lo:.2f} s = {growth:.2f}×")


def check_claims(table: WidthTable) -> list[Claim]:
    """The three claims (a), (b), (c) in order."""
    return [check_accuracy(table), check_speedup(table), check_sparse_growth(table)]
