"""Report of a `sparsenet prune` run (one point or a comparison), from its files only.

Figures: accuracy vs sparsity, one curve per criterion, dense accuracy as a reference line
(``accuracy_vs_sparsity.png``); per-layer densities at each criterion's highest sparsity
(``layer_density.png``); the distribution of the weights before pruning and after retraining,
one row per point (``weights_before_after.png``). ``report.md`` has the table of points, layer-collapse
warnings and the physically shrunk sizes.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from . import REPORTS
from ..io import load_tensors, write_text
from .execution import execution_lines
from .markdown import threads_text
from .plots import _figure, _save
from .ticks import log_axis


def _x(s: float) -> float:
    """Sparsity on a log-density axis: 0.5 -> 0.30, 0.9 -> 1, 0.99 -> 2."""
    return -math.log10(max(1e-6, 1.0 - s))


def plot_accuracy_vs_sparsity(points: list[dict], dense: dict | None, path: Path, title: str) -> Path | None:
    by: dict[str, list[tuple[float, float]]] = {}
    for p in points:
        by.setdefault(p["criterion"], []).append((p["sparsity"], p["accuracy"]))
    if not by:
        return None
    fig = _figure(7.5, 4.8)
    ax = fig.subplots()
    markers = "osD^v<>phX*"
    for i, (crit, pts) in enumerate(sorted(by.items())):
        pts.sort()
        ax.plot([_x(s) for s, _ in pts], [100 * a for _, a in pts], marker=markers[i % len(markers)],
                linewidth=1.4, label=crit)
    if dense is not None:
        ax.axhline(100 * dense["accuracy"], color="black", linestyle="--", linewidth=1, label="dense")
    data = sorted({round(p["sparsity"], 3) for p in points if 0 <= p["sparsity"] < 1})
    # the measured sparsities, plus the round ones that fall inside their range (no empty axis)
    ticks = sorted(set(data) | {t for t in (0.5, 0.9, 0.99) if data and data[0] <= t <= data[-1]})
    kept: list[float] = []
    for t in ticks:  # at least 0.12 decades of density apart, so that labels never collide
        if not kept or _x(t) - _x(kept[-1]) >= 0.12:
            kept.append(t)
    ticks = kept
    ax.set_xticks([_x(t) for t in ticks])
    ax.set_xticklabels([f"{100 * t:g}%" for t in ticks], rotation=45, fontsize=8)
    ax.set_xlabel("sparsity (fraction of weights removed; log density axis)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return _save(fig, path)


def plot_layer_density(points: list[dict], path: Path, title: str) -> Path | None:
    best: dict[str, dict] = {}
    for p in points:
        if p["criterion"] not in best or p["sparsity"] > best[p["criterion"]]["sparsity"]:
            best[p["criterion"]] = p
    if not best:
        return None
    layers = [row["name"] for row in next(iter(best.values()))["layers"]]
    fig = _figure(max(6.0, 1.2 * len(layers) * max(1, len(best)) / 2), 4.2)
    ax = fig.subplots()
    width = 0.8 / len(best)
    for i, (crit, p) in enumerate(sorted(best.items())):
        dens = {row["name"]: row["density"] for row in p["layers"]}
        xs = np.arange(len(layers)) + i * width
        ax.bar(xs, [100 * dens.get(n, 0.0) for n in layers], width, label=f"{crit} ({100 * p['sparsity']:.3g}%)")
    ax.set_xticks(np.arange(len(layers)) + 0.4 - width / 2)
    ax.set_xticklabels(layers, fontsize=8)
    log_axis(ax, "y")
    # Bars start at the bottom edge: put it on a decade below the lowest bar, so that bar
    # heights compare (a tight view of 10.00-10.01 % would make equal densities look apart).
    heights = [100 * row["density"] for p in best.values() for row in p["layers"] if row["density"] > 0]
    if heights:
        ax.set_ylim(10 ** math.floor(math.log10(min(heights)) - 1e-9),
                    10 ** math.ceil(math.log10(max(heights) * 1.3)))
    ax.set_ylabel("density per layer (%)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path)


MAX_HIST_POINTS = 12  # rows of weights_before_after.png; more points are listed in a note


def _point_label(p: dict) -> str:
    return f"{p.get('criterion', p['id'])} at {100 * p['sparsity']:.3g}%"


def plot_weights_before_after(before: dict, afters: list[tuple[dict, dict]], path: Path, title: str) -> Path | None:
    """Histograms of the dense weights (filled) and of each point's live weights after pruning and
    retraining (outline): one row per point in `afters` ((point, weights) pairs), one column per layer.

    Counts are on a log axis (pruning removes the bulk near zero). One legend, beside the top
    right panel, so that it covers no bars.
    """
    layers = [n for n in before if any(n in after for _, after in afters)]
    if not layers or not afters:
        return None
    rows, cols = len(afters), len(layers)
    fig = _figure(3.3 * cols + 1.9, 2.3 * rows + 0.7)
    fig.set_layout_engine("constrained")  # "tight" lets the figure title run into the top panels' titles
    axes = np.atleast_2d(fig.subplots(rows, cols, squeeze=False))
    for r, (point, after) in enumerate(afters):
        for c, n in enumerate(layers):
            ax = axes[r, c]
            b = before[n].float().numpy().ravel()
            a = after[n].float().numpy().ravel() if n in after else np.empty(0)
            a = a[a != 0]
            lim = float(max(np.abs(b).max() if b.size else 0.0, np.abs(a).max() if a.size else 0.0)) or 1.0
            bins = np.linspace(-lim, lim, 81)
            ax.hist(b, bins=bins, color="tab:blue", alpha=0.45, label="before pruning")
            if a.size:
                ax.hist(a, bins=bins, histtype="step", color="tab:red", linewidth=1.3, label="after (live)")
            log_axis(ax, "y")
            ax.set_title(f"{n}: {a.size} / {b.size} live", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, symmetric=True))
            if r == rows - 1:
                ax.set_xlabel("w", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{_point_label(point)}\ncount (log)", fontsize=8)
    axes[0, -1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.04, 1.0), borderaxespad=0.0)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def prune_markdown(name: str, results: dict, images: list[tuple[str, str]], notes: list[str]) -> str:
    dense = results.get("dense") or {}
    lines = [f"# {name}: pruning", ""]
    machine = results.get("machine") or {}
    if machine:
        lines.append(f"Machine: {machine.get('cpu')}, {threads_text(machine.get('threads'))}, torch "
                     f"{machine.get('torch')}, {machine.get('date')}. Command: `{results.get('command', '')}`")
        lines.append("")
    if dense:
        lines.append(f"Dense test accuracy: {100 * dense['accuracy']:.2f}%")
        lines.append("")
    lines += ["| criterion | target | sparsity | accuracy | after pruning (before retraining) | logit MSE vs dense after pruning | live / total | shrunk |",
              "|---|---|---|---|---|---|---|---|"]
    warnings = []
    for p in sorted(results.get("points", []), key=lambda p: (p["criterion"], p["sparsity"])):
        target = "-" if p.get("target_sparsity") is None else f"{100 * p['target_sparsity']:.4g}%"
        pruned = p.get("accuracy_pruned")
        pruned = "-" if pruned is None else f"{100 * pruned:.2f}%"
        shr = p.get("shrunk") or {}
        shrunk = shr.get("spec") or ("-" if not shr else "n/a")
        change = p.get("output_change")
        change = "-" if change is None else f"{change:.4g}"
        lines.append(f"| {p['criterion']} | {target} | {100 * p['sparsity']:.3f}% | {100 * p['accuracy']:.2f}% | "
                     f"{pruned} | {change} | {p['live']} / {p['total']} | {shrunk} |")
        for w in p.get("collapse") or []:
            warnings.append(f"- **layer collapse** in {p['id']}: {w}")
    lines.append("")
    han = [p for p in results.get("points", []) if p.get("iterations")]
    for p in han:
        lines.append(f"Han et al. iterations ({p['id']}): per-layer quality q (threshold = q × std of the layer's live weights)")
        lines.append("")
        for i, it in enumerate(p["iterations"]):
            q = ", ".join(f"{k} {100 * it['density'][k]:.3g}% (q={v:.3g})" for k, v in it["quality"].items())
            lines.append(f"{i + 1}. {q}: pruned {100 * it['accuracy_pruned']:.2f}% -> retrained {100 * it['accuracy']:.2f}%")
        lines.append("")
    lines += ["## Layer collapse", ""] + (warnings or ["No layer collapsed."]) + [""]
    points = sorted(results.get("points", []), key=lambda p: (p["criterion"], p["sparsity"]))
    lines += execution_lines([ph for p in points for ph in p.get("execution") or []],
                             {p["id"]: p["retrain_seconds"] for p in points if p.get("retrain_seconds") is not None})
    for title, fname in images:
        lines += [f"![{title}]({fname})", ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


@REPORTS.register("prune")
@REPORTS.register("prune-compare")
def write_prune_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    """Write the figures and report.md of a prune / prune-compare run directory."""
    run_dir = Path(run_dir)
    name = run_dir.resolve().name
    points = results.get("points", [])
    notes: list[str] = [f"Warning: {w}" for w in results.get("warnings", [])]
    written: list[Path] = []
    images: list[tuple[str, str]] = []
    p = plot_accuracy_vs_sparsity(points, results.get("dense"), run_dir / "accuracy_vs_sparsity.png",
                                  f"{name}: {results.get('model', '')} on {results.get('dataset', '')}")
    if p is not None:
        written.append(p)
        images.append(("accuracy vs sparsity", p.name))
    p = plot_layer_density(points, run_dir / "layer_density.png", f"{name}: per-layer density at the highest sparsity")
    if p is not None:
        written.append(p)
        images.append(("per-layer density", p.name))
    before_path = run_dir / "weights_dense.safetensors"
    ordered = sorted(points, key=lambda p: (p["criterion"], p["sparsity"]))
    have = [p for p in ordered if (run_dir / "weights" / f"{p['id']}.safetensors").is_file()]
    if have and before_path.is_file():
        shown = have[:MAX_HIST_POINTS]
        afters = [(p, load_tensors(run_dir / "weights" / f"{p['id']}.safetensors")) for p in shown]
        p = plot_weights_before_after(load_tensors(before_path), afters, run_dir / "weights_before_after.png",
                                      "weights before pruning and live weights after retraining")
        if p is not None:
            written.append(p)
            images.append(("weights before and after pruning", p.name))
        left = [q["id"] for q in ordered if q not in shown]
        if left:
            notes.append(f"weights_before_after.png shows {len(shown)} of {len(ordered)} points; not shown: "
                         + ", ".join(left) + ".")
    else:
        notes.append("weights_before_after.png not drawn: weight snapshots are missing.")
    written.append(write_text(run_dir / "report.md", prune_markdown(name, results, images, notes)))
    return written
