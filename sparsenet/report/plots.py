"""The report's figures, drawn with matplotlib's Agg backend and written atomically as PNG.

Figures are built with the object API (`Figure` + `FigureCanvasAgg`), never through pyplot,
so drawing a report neither needs a display nor touches pyplot's global figure list or the
user's chosen backend. Each figure is rendered to memory, written through `sparsenet.io`
(temporary file + os.replace) and then cleared.
"""
from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..io import write_bytes
from .layout import LayoutWarning, check_layout, relocate_legends
from .seedtable import percent_scale
from .stats import hill_estimator, log_histogram
from .ticks import log_axis

DPI = 110
_COLORS = {"dense": "tab:blue", "sparse": "tab:orange", "burn-in": "tab:blue",
           "final": "tab:red", "burnin": "tab:blue", "prune": "tab:purple"}


def _figure(width: float, height: float) -> Figure:
    # "tight" layout fits labels at almost no cost; bbox_inches="tight" would draw twice.
    # The figure's dpi is the PNG's, so layout checks after savefig see the saved geometry.
    return Figure(figsize=(width, height), layout="tight", dpi=DPI)


def _render(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _save(fig: Figure, path: str | Path) -> Path:
    """Render `fig` to PNG bytes, write them atomically, free the figure.

    A legend that lands on the data is moved out to the right of its panel and the figure
    rendered again; any layout problem left (clipped or overlapping text, see
    `layout.check_layout`) is reported as a LayoutWarning naming the file.
    """
    FigureCanvasAgg(fig)
    png = _render(fig)
    if relocate_legends(fig):
        png = _render(fig)
    for problem in check_layout(fig, draw=False):
        warnings.warn(f"{Path(path).name}: {problem}", LayoutWarning, stacklevel=2)
    fig.clear()
    return write_bytes(path, png)


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
    missing. The legend names the moments; each panel's title gives the sample size and
    Hill tail index of every curve. Returns None (nothing drawn) when no moment has data.
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
        stats = []
        for label, data in present.items():
            values = data.get(layer)
            if values is None or values.size == 0:
                continue
            stats.append(f"{label}: n {values.size}, α {_fmt_alpha(hill_estimator(values))}")
            edges, density = log_histogram(values, bins=bins)
            centres = np.sqrt(edges[:-1] * edges[1:])  # geometric centre of a log bin
            keep = density > 0
            # Burn-in wide and pale underneath, so an unchanged layer still shows both.
            first = label == next(iter(present))
            ax.plot(centres[keep], density[keep], drawstyle="steps-mid",
                    color=_COLORS.get(label), linewidth=2.4 if first else 1.2,
                    alpha=0.55 if first else 1.0, label=label)
        log_axis(ax, "x")
        log_axis(ax, "y")
        ax.set_title(layer + ("\n" + " · ".join(stats) if stats else ""), fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best")
    for ax in axes[len(layers):]:
        ax.set_visible(False)
    fig.suptitle(title)
    return _save(fig, path)


def _phase_ends(events: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, float]]:
    """(phase, next phase, samples at the end of phase) for each change of training phase.

    A phase ends at its last sample: a `phase_end` line's own "samples" when it has one, else
    the largest "samples" of the phase's train and eval lines (the loop always logs the
    last step of a phase). Phases without samples (pruning) do not count.
    """
    ends: dict[str, float] = {}
    order: list[str] = []
    for e in events:
        phase = e.get("phase")
        if e.get("event") in ("train", "eval", "phase_end") and _finite(e.get("samples")) and phase:
            if phase not in ends:
                order.append(str(phase))
                ends[phase] = e["samples"]
            ends[phase] = max(ends[phase], e["samples"])
    return [(a, b, ends[a]) for a, b in zip(order, order[1:])]


def plot_training_curve(events: Sequence[Mapping[str, Any]], path: str | Path,
                        title: str = "training") -> Path | None:
    """Training loss vs samples per phase, phase boundaries, test accuracy on a right axis.

    Each logged loss is a marker (a phase logged once is still seen), the boundary between
    two phases is drawn at the first one's last sample, and the x axis is logarithmic when
    the first phase is under a tenth of the run (a 200-sample burn-in before 30000 sparse
    samples). Returns None when the metrics hold neither train nor eval lines.
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
        ax.plot(xs, ys, marker="o", markersize=3.5, color=_COLORS.get(str(phase)),
                label=f"train loss ({phase})")
    ends = _phase_ends(events)
    for prev, cur, x in ends:
        ax.axvline(x, color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"{prev} → {cur}", (x, 0.02), xycoords=("data", "axes fraction"),
                    rotation=90, fontsize=7, va="bottom", ha="right", color="grey")
    samples = [e["samples"] for e in train + evals]
    if ends and min(samples) > 0 and ends[0][2] < 0.1 * max(samples):
        log_axis(ax, "x")
        ax.set_xlabel("training samples (log)")
    else:
        ax.set_xlabel("training samples")
    if train and all(e["loss"] > 0 for e in train):
        log_axis(ax, "y")
        ax.set_ylabel("training loss (log)")
    else:
        ax.set_ylabel("training loss")
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


# The seed figure's accuracy.png and speed.png are drawn by `seed_plots`.
