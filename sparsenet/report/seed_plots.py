"""The seed figure's two figures: accuracy.png and speed.png (test accuracy, training time and
speed-up vs hidden width, one line per variant; the seed document's reference numbers dashed).

Legends hold short labels and sit below the panels (a figure legend outside the axes, so they
cover no data however the lines run); the reference's source is named in report.md's text.
Width ticks are plain numbers (16, 64, 256 ...), thinned to every other power of two when
there are too many to read.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter

from .plots import DPI, _save
from .seedtable import (LABELS, SPARSE_VARIANTS, WidthTable, phase_time, reference_table,
                        speedup)
from .ticks import log_axis, value_axis

COLORS = {"dense": "tab:blue", "sparse": "tab:orange", "fixed-total": "tab:green"}
MARKERS = {"dense": "o", "sparse": "v", "fixed-total": "^"}  # lines that coincide stay apart
MAX_TICKS = 7  # labelled widths per axis; more run together on a 4-inch panel
REFERENCE = "reference (MNIST)"  # the seed document's numbers; cited in report.md


def _figure(width: float, height: float) -> Figure:
    # Constrained layout keeps room for a figure legend placed "outside" the panels.
    return Figure(figsize=(width, height), layout="constrained", dpi=DPI)


def width_ticks(widths: Sequence[int], max_ticks: int = MAX_TICKS) -> tuple[list[int], list[int]]:
    """(labelled, unlabelled) ticks for hidden widths: all of them when few enough; else, for
    powers of two, every other one ending at the largest (1024, 4096 rather than 1024, 2048,
    4096), else every k-th ending at the largest.

    >>> width_ticks([16, 32, 64, 128, 256, 512, 1024, 2048, 4096])
    ([16, 64, 256, 1024, 4096], [32, 128, 512, 2048])
    >>> width_ticks([16, 64, 256])
    ([16, 64, 256], [])
    """
    ws = sorted({int(w) for w in widths if w > 0})
    if len(ws) <= max_ticks:
        return ws, []
    if all(w & (w - 1) == 0 for w in ws):
        parity = ws[-1].bit_length() % 2
        labelled = [w for w in ws if w.bit_length() % 2 == parity]
    else:
        labelled = ws
    stride = math.ceil(len(labelled) / max_ticks)
    labelled = labelled[::-1][::stride][::-1]
    return labelled, [w for w in ws if w not in labelled]


def _width_axis(ax, widths: Sequence[int]) -> None:
    labelled, others = width_ticks(widths)
    ax.set_xlabel("hidden width H")
    if not labelled:
        ax.set_xscale("log", base=2)
        return
    value_axis(ax, labelled, which="x", base=2)
    if others:
        ax.xaxis.set_minor_locator(FixedLocator(others))
        ax.xaxis.set_minor_formatter(NullFormatter())
    lo, hi = min(labelled + others), max(labelled + others)
    ax.set_xlim(lo / 1.3, hi * 1.3)


def _points(table: WidthTable, variant: str, value) -> tuple[list[int], list[float]]:
    pts = [(w, value(cells.get(variant))) for w, cells in table.items() if cells.get(variant)]
    pts = [(w, y) for w, y in pts if isinstance(y, float) and math.isfinite(y)]
    return [w for w, _ in pts], [y for _, y in pts]


# Legend order: each measured line above its reference, column by column (a legend fills
# its columns top to bottom).
_ORDER = (LABELS["dense"], f"dense, {REFERENCE}", LABELS["sparse"], f"sparse, {REFERENCE}",
          LABELS["fixed-total"], f"speed-up, {REFERENCE}")


def _legend_below(fig: Figure, axes: Sequence) -> None:
    """One legend for all panels, below them: it covers no data and squeezes no panel."""
    entries: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(lab, h)
    if not entries:
        return
    labels = sorted(entries, key=lambda lab: _ORDER.index(lab) if lab in _ORDER else len(_ORDER))
    ncols = len(labels) if len(labels) <= 4 else math.ceil(len(labels) / 2)
    fig.legend([entries[lab] for lab in labels], labels, loc="outside lower center", ncols=ncols,
               fontsize=8, frameon=False)


def _measured_and_reference(ax, table: WidthTable, ref: WidthTable, field: str) -> bool:
    """Plot `field` of every variant (solid) and of the reference (dashed); any data drawn?"""
    drawn = False
    for variant in ("dense", *SPARSE_VARIANTS):
        xs, ys = _points(table, variant, lambda c: getattr(c, field))
        if xs:
            ax.plot(xs, ys, "-", marker=MARKERS[variant], color=COLORS[variant], label=LABELS[variant])
            drawn = True
    for variant in ("dense", "sparse"):
        xs, ys = _points(ref, variant, lambda c: getattr(c, field))
        if xs:
            ax.plot(xs, ys, "s--", color=COLORS[variant], alpha=0.45, markersize=4,
                    label=f"{variant}, {REFERENCE}")
            drawn = True
    return drawn


def plot_accuracy(table: WidthTable, reference: Mapping[str, Any] | None,
                  path: str | Path, title: str = "test accuracy") -> Path:
    """accuracy.png: see `accuracy_figure`."""
    return _save(accuracy_figure(table, reference, title), path)


def accuracy_figure(table: WidthTable, reference: Mapping[str, Any] | None,
                    title: str = "test accuracy") -> Figure:
    """Test accuracy (%) vs hidden width (log2 axis): one line per variant, reference dashed."""
    ref = reference_table(reference)
    fig = _figure(7.5, 5.0)
    ax = fig.subplots()
    _measured_and_reference(ax, table, ref, "accuracy")
    _width_axis(ax, [*table, *ref])
    ax.set_ylabel("test accuracy (%)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(title)
    _legend_below(fig, [ax])
    return fig


def plot_speed(table: WidthTable, reference: Mapping[str, Any] | None,
               path: str | Path, ratio_line: float | None = None,
               title: str = "training time, whole run") -> Path:
    """speed.png: see `speed_figure`."""
    return _save(speed_figure(table, reference, ratio_line, title), path)


def speed_figure(table: WidthTable, reference: Mapping[str, Any] | None,
                 ratio_line: float | None = None, title: str = "training time, whole run") -> Figure:
    """Three panels vs hidden width: training seconds of the whole run (burn-in + pruning +
    sparse training); seconds of the sparse-training phase alone (the O(nnz) part); and the
    dense / sparse time ratio of each sparse variant."""
    ref = reference_table(reference)
    fig = _figure(14.0, 4.9)
    ax, axp, axr = fig.subplots(1, 3)
    widths = [*table, *ref]

    if _measured_and_reference(ax, table, ref, "seconds"):
        log_axis(ax, "y")
    ax.set_ylabel("training seconds")
    ax.set_title(title)

    drawn = False
    for variant in SPARSE_VARIANTS:
        xs, ys = _points(table, variant, phase_time)
        if xs:
            axp.plot(xs, ys, "-", marker=MARKERS[variant], color=COLORS[variant], label=LABELS[variant])
            drawn = True
    if drawn:
        log_axis(axp, "y")
    axp.set_ylabel("seconds")
    axp.set_title("sparse-training phase only")

    drawn = False
    for variant in SPARSE_VARIANTS:
        pts = [(w, speedup(cells, variant)) for w, cells in table.items()]
        pts = [(w, r) for w, r in pts if math.isfinite(r)]
        if not pts:
            continue
        xs, ratios = [w for w, _ in pts], [r for _, r in pts]
        # The ratios are in report.md's tables: numbers written here would cover the lines.
        axr.plot(xs, ratios, "-", marker=MARKERS[variant], color=COLORS[variant], label=LABELS[variant])
        drawn = True
    rpts = [(w, speedup(cells)) for w, cells in ref.items()]
    rpts = [(w, r) for w, r in rpts if math.isfinite(r)]
    if rpts:
        axr.plot([w for w, _ in rpts], [r for _, r in rpts], "s--", color="grey", alpha=0.7,
                 markersize=4, label=f"speed-up, {REFERENCE}")
        drawn = True
    if ratio_line is not None:
        axr.axhline(ratio_line, color="red", linestyle=":", linewidth=1,
                    label=f"{ratio_line:g}× (claim b)")
    if drawn:
        log_axis(axr, "y")
    axr.set_ylabel("dense time / sparse time")
    axr.set_title("speed-up over dense")

    for a in (ax, axp, axr):
        _width_axis(a, widths)
        a.grid(True, which="major", alpha=0.3)
    _legend_below(fig, [ax, axp, axr])
    return fig


__all__ = ["accuracy_figure", "plot_accuracy", "plot_speed", "speed_figure", "width_ticks", "COLORS"]
