"""The claims of the seed figure, checked against measured numbers, per sparse variant.

For a sparse variant V ("sparse" = the seed's, "fixed-total" = output layer pruned too):

(a) accuracy: V's test accuracy is within ACC_TOLERANCE_POINTS percentage points of dense
    (|V - dense| <= 2) at every width >= ACC_MIN_WIDTH;
(b) speed-up: dense / V training time >= MIN_SPEEDUP at the largest width;
(c) flat cost: V's training time (burn-in + pruning + sparse training) at the largest width
    <= MAX_SPARSE_GROWTH x at the smallest width;
(d) O(nnz): the same ratio for the sparse-training phase alone (after the dense burn-in and the
    pruning, whose costs grow with the width by design). With the output layer dense (the seed's
    variant) the live weights grow with the width; with a fixed total they do not, so (d) shows
    the O(nnz) cost on its own.

"Largest" and "smallest" are over every width in the table. A claim whose widths lack a
number (a run missing or diverged) is "n/a" rather than silently judged on other widths;
a failure among the widths that are there is still a FAIL.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .seedtable import SPARSE_PHASE, WidthTable, fmt_seconds, phase_time, sparse_variants, speedup

ACC_MIN_WIDTH = 32
ACC_TOLERANCE_POINTS = 2.0
MIN_SPEEDUP = 20.0
MAX_SPARSE_GROWTH = 2.0

PASS, FAIL, NA = "PASS", "FAIL", "n/a"

# How a statement names the variant ("sparse accuracy ...", "fixed-total accuracy ...").
_NOUN = {"sparse": "sparse", "fixed-total": "fixed-total"}


@dataclass(frozen=True)
class Claim:
    """One checked claim: what it says, PASS / FAIL / n/a, and the numbers behind it."""

    key: str
    statement: str
    status: str
    detail: str
    variant: str = "sparse"


def _value(table: WidthTable, width: int, variant: str, field: str) -> float:
    cell = table.get(width, {}).get(variant)
    return math.nan if cell is None else getattr(cell, field)


def check_accuracy(table: WidthTable, variant: str = "sparse", min_width: int = ACC_MIN_WIDTH) -> Claim:
    noun = _NOUN.get(variant, variant)
    statement = (f"{noun} accuracy within {ACC_TOLERANCE_POINTS:g} points of dense at every "
                 f"width ≥ {min_width}")
    widths = [w for w in table if w >= min_width]
    if not widths:
        return Claim("a", statement, NA, f"no width ≥ {min_width} was run", variant)
    parts, failed, missing = [], False, False
    for w in widths:
        dense = _value(table, w, "dense", "accuracy")
        sparse = _value(table, w, variant, "accuracy")
        if math.isnan(dense) or math.isnan(sparse):
            missing = True
            parts.append(f"width {w}: " + ("no dense accuracy" if math.isnan(dense)
                                            else f"no {noun} accuracy"))
            continue
        delta = sparse - dense
        bad = abs(delta) > ACC_TOLERANCE_POINTS
        failed |= bad
        parts.append(f"width {w}: {sparse:.2f} vs {dense:.2f} (Δ {delta:+.2f}"
                     + (", outside" if bad else "") + ")")
    status = FAIL if failed else NA if missing else PASS
    return Claim("a", statement, status, "; ".join(parts), variant)


def check_speedup(table: WidthTable, variant: str = "sparse") -> Claim:
    noun = _NOUN.get(variant, variant)
    statement = f"dense/{noun} training-time ratio ≥ {MIN_SPEEDUP:g} at the largest width"
    if not table:
        return Claim("b", statement, NA, "no runs", variant)
    w = max(table)
    dense = _value(table, w, "dense", "seconds")
    sparse = _value(table, w, variant, "seconds")
    if math.isnan(dense) or math.isnan(sparse):
        which = "dense" if math.isnan(dense) else noun
        return Claim("b", statement, NA, f"width {w}: no {which} training time", variant)
    ratio = speedup(table[w], variant)
    if math.isnan(ratio):
        return Claim("b", statement, NA, f"width {w}: {noun} training time is {sparse:g} s", variant)
    status = PASS if ratio >= MIN_SPEEDUP else FAIL
    return Claim("b", statement, status,
                 f"width {w}: dense {fmt_seconds(dense)} s / {noun} {fmt_seconds(sparse)} s = {ratio:.1f}×", variant)


def _growth(table: WidthTable, variant: str, key: str, statement: str, what: str,
            seconds) -> Claim:
    """Claim that seconds(cell) at the largest width <= MAX_SPARSE_GROWTH x at the smallest."""
    if len(table) < 2:
        return Claim(key, statement, NA, "needs at least two widths", variant)
    lo, hi = min(table), max(table)
    t_lo, t_hi = (seconds(table[w].get(variant)) for w in (lo, hi))
    missing = [w for w, t in ((lo, t_lo), (hi, t_hi)) if math.isnan(t)]
    if missing:
        return Claim(key, statement, NA,
                     f"no {what} at width " + ", ".join(map(str, missing)), variant)
    if t_lo <= 0:
        return Claim(key, statement, NA, f"width {lo}: {what} is {t_lo:g} s", variant)
    growth = t_hi / t_lo

    def live(w: int) -> str:
        n = table[w][variant].live_weights
        return "" if n is None else f" ({n:,} live)"

    status = PASS if growth <= MAX_SPARSE_GROWTH else FAIL
    return Claim(key, statement, status,
                 f"width {hi}: {fmt_seconds(t_hi)} s{live(hi)} vs width {lo}: {fmt_seconds(t_lo)} s{live(lo)} "
                 f"= {growth:.2f}×", variant)


def _seconds(cell) -> float:
    return math.nan if cell is None else cell.seconds


def check_sparse_growth(table: WidthTable, variant: str = "sparse") -> Claim:
    noun = _NOUN.get(variant, variant)
    statement = (f"{noun} time at the largest width ≤ {MAX_SPARSE_GROWTH:g}× {noun} time at "
                 "the smallest width")
    return _growth(table, variant, "c", statement, f"{noun} training time", _seconds)


def check_sparse_phase_growth(table: WidthTable, variant: str = "sparse") -> Claim:
    noun = _NOUN.get(variant, variant)
    statement = (f"O(nnz): {noun} time of the sparse-training phase alone (after burn-in and "
                 f"pruning) at the largest width ≤ {MAX_SPARSE_GROWTH:g}× at the smallest width")
    return _growth(table, variant, "d", statement, f"{noun} {SPARSE_PHASE}-phase time",
                   lambda cell: phase_time(cell))


def check_claims(table: WidthTable, variant: str = "sparse") -> list[Claim]:
    """The claims (a), (b), (c), (d) of one sparse variant, in order."""
    return [check_accuracy(table, variant), check_speedup(table, variant),
            check_sparse_growth(table, variant), check_sparse_phase_growth(table, variant)]


def check_all_claims(table: WidthTable) -> dict[str, list[Claim]]:
    """{variant: its claims} for every sparse variant in the table (the seed's when none is)."""
    return {v: check_claims(table, v) for v in (sparse_variants(table) or ["sparse"])}
