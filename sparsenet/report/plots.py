"""The report's figures, drawn with matplotlib's Agg backend and written atomically as PNG.

Figures are built with the object API (`Figure` + `FigureCanvasAgg`), never through pyplot,
so drawing a report neither needs a display nor touches pyplot's global figure list or the
user's chosen backend. Each figure is rendered to memory, written through `sparsenet.io`
(temporary file + os.replace) and then cleared.
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from ..io import write_bytes
from .seedtable import VARIANTS, WidthTable, percent_scale, reference_table, speedup
from .stats import hill_estimator, log_histogram

DPI = 110
_COLORS = {"dense": "tab:blue", "sparse": "tab:orange", "burn-in": "tab:blue",
           "final": "tab:red", "burnin": "tab:blue", "prune": "tab:purple"}


def _figure(width: float, height: float) -> Figure:
    # "tight" layout fits labels at almost no cost; bbox_inches="tight" would draw twice.
    return Figure(figsize=(width, height), layout="tight")


def _save(fig: Figure, path: str | Path) -> Path:
    """Render `fig` to PNG bytes, write them atomically, free the figure."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    fig.clear()
    return write_bytes(path, buf.getvalue())


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _fmt_alpha(alpha: float) -> str:
    return "n/a" if not math.isfinite(alpha) else f"{alpha:.2f}"


def plot_magnitude_histograms(
    series: Mapping[str, Mapping[str, np.ndarray] | None],
    path: str | Path,
    title: str,
    xlabel: str,
    bins: int = 50,
) -> Path | None:
    """One log-log panel per layer with one density curve per moment (e.g. burn-in, final).

    `series` maps a moment label to {layer: live magnitudes}, or None when that snapshot is
    missing. The Hill tail index of each curve is given in its legend entry. Returns None
    (nothing drawn) when no moment has data.
    """
    present = {label: data for label, data in series.items() if data}
    if not present:
        return None
    layers: list[str] = []
    for data in present.values():
        layers += [name for name in data if name not in layers]
    ncols = min(3, len(layers))
    nrows = math.ceil(len(layers) / ncols)
    fig = _figure(4.6 * ncols, 3.6 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, layer in zip(axes, layers):
        for label, data in present.items():
            values = data.get(layer)
            if values is None or values.size == 0:
                continue
            edges, density = log_histogram(values, bins=bins)
            centres = np.sqrt(edges[:-1] * edges[1:])  # geometric centre of a log bin
            keep = density > 0
            # Burn-in wide and pale underneath, so an unchanged layer still shows both.
            first = label == next(iter(present))
            ax.plot(centres[keep], density[keep], drawstyle="steps-mid",
                    color=_COLORS.get(label), linewidth=2.4 if first else 1.2,
                    alpha=0.55 if first else 1.0, label=(
                        f"{label}: n={values.size}, "
                        f"Hill α={_fmt_alpha(hill_estimator(values))}"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(layer, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    for ax in axes[len(layers):]:
        ax.set_visible(False)
    fig.suptitle(title)
    return _save(fig, path)


def plot_training_curve(events: Sequence[Mapping[str, Any]], path: str | Path,
                        title: str = "training") -> Path | None:
    """Training loss vs samples per phase, phase boundaries, test accuracy on a right axis.

    Returns None when the metrics hold neither train nor eval lines.
    """
    train = [e for e in events if e.get("event") == "train"
             and _finite(e.get("samples")) and _finite(e.get("loss"))]
    evals = [e for e in events if e.get("event") == "eval"
             and _finite(e.get("samples")) and _finite(e.get("accuracy"))]
    if not train and not evals:
        return None
    fig = _figure(7.5, 4.2)
    ax = fig.subplots()
    for phase in dict.fromkeys(e.get("phase") for e in train):
        pts = [(e["samples"], e["loss"]) for e in train if e.get("phase") == phase]
        xs, ys = zip(*pts)
        ax.plot(xs, ys, color=_COLORS.get(str(phase)), label=f"train loss ({phase})")
    # A phase boundary is the first logged sample of a phase that follows another one.
    for prev, cur in zip(train, train[1:]):
        if cur.get("phase") != prev.get("phase"):
            x = 0.5 * (prev["samples"] + cur["samples"])
            ax.axvline(x, color="grey", linestyle=":", linewidth=1)
            ax.annotate(f"{prev.get('phase')} → {cur.get('phase')}", (x, 0.02),
                        xycoords=("data", "axes fraction"), rotation=90, fontsize=7,
                        va="bottom", ha="right", color="grey")
    if train and all(e["loss"] > 0 for e in train):
        ax.set_yscale("log")
    ax.set_xlabel("training samples")
    ax.set_ylabel("loss")
    handles, labels = ax.get_legend_handles_labels()
    legend_ax = ax
    if evals:
        # The twin axes is drawn over `ax`, so the legend goes on it to stay visible.
        ax2 = legend_ax = ax.twinx()
        acc = [e["accuracy"] for e in evals]
        scale = percent_scale(acc)
        ax2.plot([e["samples"] for e in evals], [a * scale for a in acc], "o--", color="tab:green",
                 label="test accuracy")
        ax2.set_ylabel("test accuracy (%)")
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if handles:
        legend_ax.legend(handles, labels, fontsize=8, loc="best")
    ax.set_title(title)
    return _save(fig, path)


def _series(table: WidthTable, variant: str, field: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for width, cells in table.items():
        cell = cells.get(variant)
        if cell is not None and math.isfinite(getattr(cell, field)):
            xs.append(width)
            ys.append(getattr(cell, field))
    return xs, ys


def _ratio_series(table: WidthTable) -> tuple[list[int], list[float]]:
    pts = [(w, speedup(cells)) for w, cells in table.items()]
    pts = [(w, r) for w, r in pts if math.isfinite(r)]
    return [w for w, _ in pts], [r for _, r in pts]


def _reference_label(reference: Mapping[str, Any] | None, what: str) -> str:
    reference = reference or {}
    src = reference.get("source")
    name = reference.get("dataset", "")
    return f"{what}, {name} reference".replace(",  ", ", ") + (f" ({src})" if src else "")


def _log2_width_axis(ax, widths: Sequence[int]) -> None:
    """Log2 x axis with a plain-number tick at each width that has data."""
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden width")
    ticks = sorted({w for w in widths if w > 0})
    if ticks:
        ax.set_xticks(ticks, [str(w) for w in ticks])
        ax.xaxis.set_minor_locator(NullLocator())


def _legend(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def plot_accuracy(table: WidthTable, reference: Mapping[str, Any] | None,
                  path: str | Path, title: str = "test accuracy") -> Path:
    """Test accuracy (%) vs hidden width (log2 axis): dense and sparse, reference dashed."""
    ref = reference_table(reference)
    fig = _figure(7.0, 4.4)
    ax = fig.subplots()
    for variant in VARIANTS:
        xs, ys = _series(table, variant, "accuracy")
        if xs:
            ax.plot(xs, ys, "o-", color=_COLORS[variant], label=variant)
        xs, ys = _series(ref, variant, "accuracy")
        if xs:
            ax.plot(xs, ys, "s--", color=_COLORS[variant], alpha=0.6,
                    label=_reference_label(reference, variant))
    _log2_width_axis(ax, [*table, *ref])
    ax.set_ylabel("test accuracy (%)")
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax)
    ax.set_title(title)
    return _save(fig, path)


def plot_speed(table: WidthTable, reference: Mapping[str, Any] | None,
               path: str | Path, ratio_line: float | None = None,
               title: str = "training time") -> Path:
    """Training seconds vs width (log-log) and, right, the dense/sparse time ratio per width."""
    ref = reference_table(reference)
    fig = _figure(11.0, 4.4)
    ax, axr = fig.subplots(1, 2)
    for variant in VARIANTS:
        xs, ys = _series(table, variant, "seconds")
        if xs:
            ax.plot(xs, ys, "o-", color=_COLORS[variant], label=variant)
        xs, ys = _series(ref, variant, "seconds")
        if xs:
            ax.plot(xs, ys, "s--", color=_COLORS[variant], alpha=0.6,
                    label=_reference_label(reference, variant))
    _log2_width_axis(ax, [*table, *ref])
    ax.set_ylabel("training seconds")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)

    xs, ratios = _ratio_series(table)
    if xs:
        axr.plot(xs, ratios, "o-", color="black", label="measured")
        for x, r in zip(xs, ratios):
            axr.annotate(f"{r:.1f}×", (x, r), textcoords="offset points", xytext=(0, 6),
                         ha="center", fontsize=7)
    rxs, rratios = _ratio_series(ref)
    if rxs:
        axr.plot(rxs, rratios, "s--", color="grey", alpha=0.7,
                 label=_reference_label(reference, "dense/sparse"))
    if ratio_line is not None:
        axr.axhline(ratio_line, color="red", linestyle=":", linewidth=1,
                    label=f"{ratio_line:g}× (claim)")
    _log2_width_axis(axr, [*table, *ref])
    axr.set_ylabel("dense / sparse training time")
    axr.set_title("speed-up of sparse over dense")
    axr.grid(True, which="both", alpha=0.3)
    # Log y only with positive data on the axes (an empty log axis warns).
    for a, has in ((ax, any(_series(t, v, "seconds")[0] for t in (table, ref) for v in VARIANTS)),
                   (axr, bool(xs or rxs))):
        if has:
            a.set_yscale("log")
        _legend(a)
    return _save(fig, path)
