"""Report of a `sparsenet sweep` directory, from its results.json and its trials' results.json only.

Writes ``aggregate.json`` (`sweep_aggregate.aggregate`: mean, sample std and n over seeds per grid
point), ``report.md`` (what was swept, the trials done, failed with their errors, or missing, and
one table per metric family) and, for kinds measured against a fraction of weights kept
(lottery, prune, dst, train), ``accuracy_vs_remaining.png``: test accuracy vs % of weights
remaining on a log axis running from 100% down, sparser to the right as in the lottery-ticket
papers (Frankle & Carbin 2019, arXiv:1803.03635), error bars = sample std over seeds. A lottery
sweep that measured early stopping also gets ``early_stop_vs_remaining.png``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from matplotlib.ticker import MaxNLocator

from . import REPORTS
from ..io import write_json, write_text
from .lottery_report import level_ticks
from .markdown import _table
from .plots import _figure, _save
from .stats import format_mean_std
from .sweep_aggregate import aggregate

MAX_COLUMNS = 6  # metric columns per table; more are split into further tables
MARKERS = "osD^v<>phX*"
STYLES = ("-", "--", ":", "-.")
MAX_LEGEND_INSIDE = 5  # more lines than this: the legend goes beside the panel
FIGURES = {"test_accuracy": ("accuracy_vs_remaining.png", "test accuracy (%)"),
           "early_stop_step": ("early_stop_vs_remaining.png", "early-stopping step (min validation loss)")}


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def seed_count(agg: dict) -> int:
    """The most seeds any grid point has: the N of "mean ± std over N seeds"."""
    return max((g["n"] for g in agg["groups"]), default=0)


def _over(n: int) -> str:
    return f"mean ± std over {n} seeds" if n > 1 else "one seed, no spread shown"


def _error_line(error: Any) -> str:
    """The last line of a recorded error (a traceback ends with its message)."""
    lines = [ln.strip() for ln in str(error or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "no error recorded"


def plot_curves(curves: list[dict], path: Path, ylabel: str, title: str, scale: float,
                integer: bool = False) -> Path | None:
    """`curves` (one line per label) vs % of weights remaining: log x from 100% down, error bars
    where a point has two or more seeds. None when no curve has a point."""
    curves = [c for c in curves if c["points"]]
    if not curves:
        return None
    fig = _figure(7.6 if len(curves) > MAX_LEGEND_INSIDE else 7.0, 4.6)
    ax = fig.subplots()
    xs = [p["remaining"] for c in curves for p in c["points"]]
    series = list(dict.fromkeys(str(c["series"]) for c in curves))
    points = list(dict.fromkeys(json.dumps(c["point"], sort_keys=True) for c in curves))
    for c in curves:
        pts = c["points"]
        i, j = series.index(str(c["series"])), points.index(json.dumps(c["point"], sort_keys=True))
        i = i if len(series) > 1 else j  # one method: the grid points take the colours
        j = j if len(points) > 1 else i  # one grid point: the methods take the line styles
        err = [scale * p["std"] if p["n"] > 1 and _finite(p["std"]) else 0.0 for p in pts]
        # colour = line (kind, criterion, method), line style and marker = grid point; the first
        # grid point wide and filled, later ones thinner and hollow on top, so coinciding lines all show
        ax.errorbar([p["remaining"] for p in pts], [scale * p["mean"] for p in pts], yerr=err,
                    color=f"C{i % 10}", marker=MARKERS[j % len(MARKERS)], linestyle=STYLES[j % len(STYLES)],
                    markersize=max(4.0, 7.0 - j), markerfacecolor=f"C{i % 10}" if j == 0 else "white",
                    linewidth=max(1.0, 2.4 - 0.6 * j), capsize=3, zorder=3 + j, label=c["label"])
    ax.set_xscale("log")
    ticks = level_ticks(xs)  # the measured % remaining, labels apart
    ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(max(xs) * 1.15, min(xs) / 1.15)  # inverted: 100% at the left, sparser to the right
    ax.set_xlabel("% of weights remaining (log)")
    ax.set_ylabel(ylabel)
    if integer:  # training steps: no "20.25"
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    if len(curves) > MAX_LEGEND_INSIDE:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


def _point_text(point: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "(every trial)"


def _scale(family: str, metrics: list[dict]) -> tuple[float, str]:
    """Accuracies stored as fractions print in percent."""
    if ("accuracy" in family or family in ("sparsity", "density")) and all(abs(m["mean"]) <= 1 for m in metrics):
        return 100.0, " (%)"
    return 1.0, ""


def _cell(m: dict | None, family: str, scale: float) -> str:
    if m is None:
        return "—"
    counts = all(float(v).is_integer() for v in m["values"])  # steps, weights: whole numbers
    spec = (".0f" if float(m["mean"]).is_integer() else ".1f") if counts and scale == 1.0 else ".2f"
    return f"{format_mean_std(m, scale, spec)} ({m['n']})"


def _column(m: dict) -> str:
    """Where along its line a metric sits: its level or target, else its % of weights remaining."""
    if m["at"] is not None:
        return str(m["at"])
    return f"{m['remaining']:.3g}% remaining" if m["remaining"] is not None else "value"


def _header(col: str, metrics: list[dict]) -> str:
    """A column's title, with the % of weights remaining when every entry in it agrees on it."""
    left = {f"{m['remaining']:.3g}" for m in metrics if m["remaining"] is not None}
    return f"{col} ({left.pop()}% left)" if len(left) == 1 and "remaining" not in col else col


def metric_tables(agg: dict) -> list[str]:
    """One table per metric family. Rows: grid point (with the line: lottery kind, criterion, DST
    method); columns: where along the line (level, target sparsity, density). Whole-run numbers
    (train, reproductions) share one table, a column per metric, split every MAX_COLUMNS columns."""
    out: list[str] = []
    families: dict[str, list[tuple[dict, dict]]] = {}
    for g in agg["groups"]:
        for m in g["metrics"].values():
            along = m["series"] is not None or m["at"] is not None
            families.setdefault(m["family"] if along else "", []).append((g, m))
    order = ("", "test_accuracy")
    for fam in sorted(families, key=lambda f: (order.index(f) if f in order else len(order), f)):
        entries = families[fam]
        col_of = (lambda m: m["family"]) if fam == "" else _column
        cols = list(dict.fromkeys(col_of(m) for _, m in sorted(
            entries, key=lambda e: (fam != "" and -(e[1]["remaining"] or 0.0), col_of(e[1])))))
        rows: dict[str, dict] = {}
        for g, m in entries:
            parts = [", ".join(f"{k}={v}" for k, v in g["point"].items())] + (
                [str(m["series"])] if fam and m["series"] is not None else [])
            name = " · ".join(p for p in parts if p) or "all trials"
            rows.setdefault(name, {})[col_of(m)] = m
        for start in range(0, len(cols), MAX_COLUMNS):
            part = cols[start:start + MAX_COLUMNS]
            by_col = {c: [r[c] for r in rows.values() if c in r] for c in part}
            if fam == "":
                scales = {c: _scale(c, by_col[c]) for c in part}
                header = [f"{c}{scales[c][1]}" for c in part]
                title = "Per-run metrics"
            else:
                scale = _scale(fam, [m for _, m in entries])
                scales = {c: scale for c in part}
                header = [_header(c, by_col[c]) for c in part]
                title = fam.replace("_", " ") + scale[1]
            title += f" ({start // MAX_COLUMNS + 1})" if len(cols) > MAX_COLUMNS else ""
            body = [[name] + [_cell(r.get(c), fam or c, scales[c][0]) for c in part] for name, r in rows.items()]
            out += [f"### {title}", "", _table(["grid point"] + header, body), ""]
    return out


def sweep_markdown(agg: dict, results: dict, images: list[tuple[str, str]]) -> str:
    info = results.get("sweep") or {}
    t = agg["trials"]
    n = seed_count(agg)
    values: dict[str, list] = {}
    for tr in results.get("trials", []):
        for k, v in (tr.get("point") or {}).items():
            if v not in values.setdefault(k, []):
                values[k].append(v)
    lines = [f"# Sweep {agg['name']}: {agg['kind']}", ""]
    lines += [f"- `{k}`{' (seed, averaged over)' if k in agg['seed_keys'] else ''}: "
              + ", ".join(map(str, values.get(k, []))) for k in agg["axes"]] or ["- no axis varied"]
    lines += ["", f"Executor: {info.get('executor', 'not recorded')}. Trials: {t['total']}, done {t['done']}, "
              f"failed {t['failed']}, missing {t['missing']}.", ""]
    if agg["failed"]:
        lines += ["## Failed trials", ""]
        lines += [f"- {f['id']} ({_point_text(f['point'])}), {f.get('failure') or 'failed'} after "
                  f"{f['attempts']} attempt(s): "
                  + _error_line(f.get("error"))
                  for f in agg["failed"]] + [""]
    if agg["missing"]:
        lines += ["## Missing trials (left out of every mean)", ""]
        lines += [f"- {m['id']} ({_point_text(m['point'])}): {m['reason']}" for m in agg["missing"]] + [""]
    lines += ["## Results", "",
              (f"Cells: mean ± sample standard deviation (ddof = 1) over seeds, (n) = number of seeds; "
               f"up to {n} seeds per grid point." if n > 1 else
               "Cells: the single seed's value, (n) = number of seeds (one: no spread to show)."), ""]
    lines += metric_tables(agg) if agg["groups"] else ["No trial finished: nothing to aggregate.", ""]
    if images:
        lines += ["## Figures", ""] + [f"![{title}]({name})\n" for title, name in images]
        if any(m["series"] == "dense" or (m["series"] == "ticket" and m["at"] == "level 0")
               for g in agg["groups"] for m in g["metrics"].values()):
            lines += ["Each line's 100% point is the dense net it was pruned from (a prune run's dense accuracy, "
                      "a lottery run's level-0 ticket). Error bars: sample std over seeds, where a point has two or "
                      "more.", ""]
    lines += ["The numbers are also in aggregate.json (`sparsenet.report.sweep_aggregate.aggregate`).", ""]
    return "\n".join(lines)


@REPORTS.register("sweep")
def write_sweep_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    """Write aggregate.json, the figures and report.md of a sweep directory; return the files written."""
    run_dir = Path(run_dir)
    agg = aggregate(run_dir)
    written = [write_json(run_dir / "aggregate.json", agg)]
    images: list[tuple[str, str]] = []
    n = seed_count(agg)
    for metric, (fname, ylabel) in FIGURES.items():
        curves = [c for c in agg["curves"] if c["metric"] == metric]
        scale = 100.0 if metric == "test_accuracy" and all(
            p["mean"] <= 1 for c in curves for p in c["points"]) else 1.0
        what = "test accuracy" if metric == "test_accuracy" else "early-stopping step"
        p = plot_curves(curves, run_dir / fname, ylabel if scale != 1.0 or metric != "test_accuracy" else "test accuracy",
                        f"{agg['name']} ({agg['kind']}): {what}, {_over(n)}", scale,
                        integer=metric.endswith("_step"))
        if p is not None:
            written.append(p)
            images.append((f"{what} vs % of weights remaining", p.name))
    written.append(write_text(run_dir / "report.md", sweep_markdown(agg, results, images)))
    return written


__all__ = ["metric_tables", "plot_curves", "seed_count", "sweep_markdown", "write_sweep_report"]
