"""Report of one training run: training curve, |w| and |grad| histograms, report.md."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import REPORTS
from ..io import write_text
from .markdown import train_markdown
from .plots import plot_magnitude_histograms, plot_training_curve
from .runs import live_magnitudes, read_config, read_metrics
from .stats import hill_estimator, summary

_HIST = {  # quantity -> (file name, figure title, x label)
    "weights": ("weights_hist.png", "live |w| per layer", "|w|"),
    "grads": ("grads_hist.png", "|mean gradient| of live weights per layer", "|grad|"),
}
HISTOGRAM_FILES = tuple(fname for fname, _, _ in _HIST.values())


def _name(run_dir: Path) -> str:
    """The run's display name; resolved so that "." still has one."""
    return run_dir.resolve().name


def tail_stats(magnitudes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per quantity, moment and layer: `summary` plus the Hill estimate ("hill")."""
    out: dict[str, dict[str, Any]] = {}
    for quantity, by_moment in magnitudes.items():
        out[quantity] = {}
        for moment, per_layer in by_moment.items():
            out[quantity][moment] = None if per_layer is None else {
                name: {**summary(v), "hill": hill_estimator(v)} for name, v in per_layer.items()
            }
    return out


def draw_histograms(run_dir: Path, notes: list[str]) -> tuple[list[Path], dict[str, Any]]:
    """Draw weights_hist.png / grads_hist.png of `run_dir` into it.

    Returns the written paths and the magnitudes (for tail statistics). A quantity with no
    snapshot at all is skipped with a note; one missing moment is noted by `live_magnitudes`.
    """
    magnitudes = live_magnitudes(run_dir, notes)
    written = []
    for quantity, (fname, title, xlabel) in _HIST.items():
        path = plot_magnitude_histograms(magnitudes[quantity], run_dir / fname,
                                         f"{_name(run_dir)}: {title}", xlabel)
        if path is None:
            notes.append(f"{fname} not drawn: no {quantity} snapshot in {_name(run_dir)}/snapshots.")
        else:
            written.append(path)
    return written, magnitudes


@REPORTS.register("train")
def write_train_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    """Write training_curve.png, weights_hist.png, grads_hist.png and report.md."""
    run_dir = Path(run_dir)
    notes: list[str] = [f"Warning: {w}" for w in results.get("warnings", [])]
    config = read_config(run_dir, notes)
    metrics = read_metrics(run_dir, notes)
    written: list[Path] = []
    images: list[tuple[str, str]] = []

    curve = plot_training_curve(metrics, run_dir / "training_curve.png", title=_name(run_dir))
    if curve is not None:
        written.append(curve)
        images.append(("training curve", curve.name))
    elif metrics:
        notes.append("metrics.jsonl has no train or eval lines: no training curve.")

    hists, magnitudes = draw_histograms(run_dir, notes)
    written += hists
    images += [(p.stem.replace("_", " "), p.name) for p in hists]

    text = train_markdown(_name(run_dir), results, config, tail_stats(magnitudes), images, notes)
    written.append(write_text(run_dir / "report.md", text))
    return written
