"""The seed figure's numbers arranged by hidden width and variant.

Variants: "dense"; "sparse", the seed's (hidden layer pruned to the budget, output layer dense);
"fixed-total" (output layer pruned too, so the total live weights are the same at every width).
Rows of results.json and the reference lists both become a `WidthTable`:
{width: {"dense": Cell, "sparse": Cell, ...}}, sorted by width. Accuracies are converted to
percent (a list whose values are all <= 1 is taken as fractions), so differences are in
percentage points everywhere. Several rows for one (width, variant), e.g. several seeds,
are averaged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from ..errors import SparsenetError

VARIANTS = ("dense", "sparse", "fixed-total")
SPARSE_VARIANTS = ("sparse", "fixed-total")
# Short names for legends and headings (the source of the reference goes in report text).
LABELS = {"dense": "dense", "sparse": "sparse (seed)", "fixed-total": "sparse, fixed total"}
DESCRIPTIONS = {
    "sparse": "seed variant: hidden layer pruned to the budget, output layer dense",
    "fixed-total": "fixed total: output layer pruned too, so every width keeps the same live weights",
}
# The phase of a pruned run whose cost is O(nnz): training after burn-in and pruning.
SPARSE_PHASE = "sparse"
NAN = math.nan


@dataclass
class Cell:
    """One (width, variant) point: accuracy in percent, seconds; nan where unknown."""

    accuracy: float = NAN
    seconds: float = NAN
    loss: float = NAN
    live_weights: int | None = None
    hidden_live_weights: int | None = None
    live_hidden_units: int | None = None
    output_live_weights: int | None = None
    phase_seconds: dict[str, float] = field(default_factory=dict)
    count: int = 1
    run_dirs: list[str] = field(default_factory=list)


WidthTable = dict[int, dict[str, Cell]]


def _num(x: Any) -> float:
    """A finite float, or nan for None, strings, bools and non-finite values."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return NAN
    return float(x) if math.isfinite(x) else NAN


def percent_scale(values: Iterable[Any]) -> float:
    """100 when the finite accuracies are all in [0, 1] (fractions), else 1 (percent)."""
    finite = [v for v in map(_num, values) if not math.isnan(v)]
    return 100.0 if finite and max(finite) <= 1.0 else 1.0


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else NAN


def _int_or_none(values: Sequence[Any]) -> int | None:
    ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    return round(sum(ints) / len(ints)) if ints else None


def _phases(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Mean seconds per phase over the rows that recorded it."""
    names: dict[str, None] = {}
    for r in rows:
        ph = r.get("phase_seconds")
        if isinstance(ph, Mapping):
            names.update(dict.fromkeys(k for k in ph if isinstance(k, str)))
    out = {}
    for name in names:
        mean = _mean([_num(r["phase_seconds"].get(name)) for r in rows
                      if isinstance(r.get("phase_seconds"), Mapping)])
        if not math.isnan(mean):
            out[name] = mean
    return out


def rows_table(rows: Any, source: str = "results.json") -> WidthTable:
    """Group seed-figure rows by (width, variant); a malformed row is a SparsenetError."""
    if not isinstance(rows, list):
        raise SparsenetError(f"{source}: \"rows\" must be a list of runs; rerun "
                             "`sparsenet reproduce` to rewrite it")
    groups: dict[int, dict[str, list[Mapping[str, Any]]]] = {}
    for i, row in enumerate(rows):
        width = row.get("width") if isinstance(row, dict) else None
        variant = row.get("variant") if isinstance(row, dict) else None
        if isinstance(width, bool) or not isinstance(width, int) or not isinstance(variant, str):
            raise SparsenetError(
                f"{source}: row {i} needs an integer \"width\" and a \"variant\" "
                f"({', '.join(VARIANTS)}), got {row!r:.120}; rerun `sparsenet reproduce`")
        groups.setdefault(width, {}).setdefault(variant, []).append(row)
    scale = percent_scale(r.get("test_accuracy") for r in rows)
    table: WidthTable = {}
    for width in sorted(groups):
        table[width] = {}
        for variant, rs in groups[width].items():
            table[width][variant] = Cell(
                accuracy=_mean([_num(r.get("test_accuracy")) * scale for r in rs]),
                seconds=_mean([_num(r.get("train_seconds")) for r in rs]),
                loss=_mean([_num(r.get("test_loss")) for r in rs]),
                live_weights=_int_or_none([r.get("live_weights") for r in rs]),
                hidden_live_weights=_int_or_none([r.get("hidden_live_weights") for r in rs]),
                live_hidden_units=_int_or_none([r.get("live_hidden_units") for r in rs]),
                output_live_weights=_int_or_none([r.get("output_live_weights") for r in rs]),
                phase_seconds=_phases(rs),
                count=len(rs),
                run_dirs=[str(r["run_dir"]) for r in rs if r.get("run_dir")],
            )
    return table


def reference_table(reference: Mapping[str, Any] | None) -> WidthTable:
    """The reference lists as a WidthTable; lists whose length differs from widths are dropped."""
    if not isinstance(reference, Mapping):
        return {}
    widths = reference.get("widths")
    if not isinstance(widths, list):
        return {}
    table: WidthTable = {}
    for variant in VARIANTS:
        acc = reference.get(f"{variant}_accuracy")
        secs = reference.get(f"{variant}_seconds")
        acc = acc if isinstance(acc, list) and len(acc) == len(widths) else None
        secs = secs if isinstance(secs, list) and len(secs) == len(widths) else None
        if acc is None and secs is None:
            continue
        scale = percent_scale(acc or [])
        for i, width in enumerate(widths):
            if isinstance(width, bool) or not isinstance(width, int):
                continue
            cell = Cell(accuracy=_num(acc[i]) * scale if acc else NAN,
                        seconds=_num(secs[i]) if secs else NAN)
            table.setdefault(width, {})[variant] = cell
    return dict(sorted(table.items()))


def fmt_seconds(x: float) -> str:
    """Seconds readable at every scale: 12.34, 0.456, 0.0042 (sub-second phases stay visible)."""
    if not math.isfinite(x):
        return "—"
    if abs(x) >= 0.995:
        return f"{x:.2f}"
    return f"{x:.3f}" if abs(x) >= 0.01 else f"{x:.2g}"


def sparse_variants(table: WidthTable) -> list[str]:
    """The sparse variants that have at least one cell, in `SPARSE_VARIANTS` order."""
    return [v for v in SPARSE_VARIANTS if any(v in cells for cells in table.values())]


def phase_time(cell: Cell | None, phase: str = SPARSE_PHASE) -> float:
    """Seconds of one phase of a cell's run, nan when not recorded."""
    return NAN if cell is None else cell.phase_seconds.get(phase, NAN)


def speedup(cells: Mapping[str, Cell], variant: str = "sparse") -> float:
    """Dense seconds / `variant` seconds at one width, nan when either is unknown or zero."""
    dense, sparse = cells.get("dense"), cells.get(variant)
    if dense is None or sparse is None:
        return NAN
    if math.isnan(dense.seconds) or math.isnan(sparse.seconds) or sparse.seconds <= 0:
        return NAN
    return dense.seconds / sparse.seconds
