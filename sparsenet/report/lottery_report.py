"""Report of a `sparsenet lottery` run, from its files only (results.json + saved masks).

Figures:

* ``ticket_plot.png``: test accuracy vs % of weights remaining (log-x, sparser to the right), the
  ticket against its controls (reinit, reshuffle, constant, random mask), mean ± std over seeds —
  the classic plot of Frankle & Carbin 2019 (arXiv:1803.03635) and Zhou et al. 2019
  (arXiv:1905.01067). With label noise it is the sparse double descent curve.
* ``early_stop.png``: early-stopping iteration (min validation loss) vs % remaining.
* ``learning_speed.png``: first step reaching 99% of the dense net's best validation accuracy.
* ``mask_overlap.png``: IoU of ticket masks between levels (first seed) and between seeds.
* ``edge_popup.png``: edge-popup accuracy vs k per frozen init, neuron pruning alongside.
* ``early_bird.png``: mask distance between consecutive checks, with the draw point.
* ``approximation.png``: KL between a trained target and pruned random nets vs their width.
"""
from __future__ import annotations

import itertools
import math
from collections import Counter
from pathlib import Path
from typing import Any

from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from .execution import run_execution_lines
from . import REPORTS
from ..io import load_tensors, write_text
from ..masks import overlap
from .markdown import threads_text
from .plots import _figure, _save
from .stats import format_mean_std
from .ticks import log_axis, value_axis

KIND_STYLE = {"ticket": ("tab:blue", "o"), "reinit": ("tab:red", "s"), "reshuffle": ("tab:orange", "^"),
              "constant": ("tab:green", "D"), "random_mask": ("tab:purple", "v")}


def _pct(x: float) -> str:
    return f"{100 * x:.2f}"


def _series(levels: list[dict], kind: str, metric: str):
    """(% remaining, {"mean", "std", "n"}, (level, kind) the value comes from) per level."""
    pts = [(100 * lv["density"], lv["kinds"][kind][metric], (lv["level"], kind)) for lv in levels if kind in lv["kinds"]]
    if kind != "ticket":  # controls share the dense point with the ticket
        dense = next((lv for lv in levels if lv["level"] == 0), None)
        if dense is not None:
            pts = [(100.0, dense["kinds"]["ticket"][metric], (0, "ticket"))] + pts
    return pts


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def level_ticks(percents: list[float], ratio: float = 1.4) -> list[float]:
    """The levels' % remaining as ticks, densest first, each at least `ratio` times the next."""
    ticks: list[float] = []
    for x in sorted({p for p in percents if p > 0}, reverse=True):
        if not ticks or ticks[-1] / x >= ratio:
            ticks.append(x)
    return ticks


def plot_levels(levels: list[dict], metric: str, path: Path, ylabel: str, title: str, scale: float = 100.0,
                runs: dict | None = None) -> Path:
    """`metric` (mean ± sample std over seeds) vs % of weights remaining, one line per kind.

    With `runs` ({(level, kind): artifacts}) a value some artifacts never reached (learning
    speed) is censored, not dropped: a point reached by some seeds is their mean, marked
    "k/n"; a point no seed reached is a hollow triangle near the top edge ("not reached"), one
    row of triangles per kind.
    """
    fig = _figure(7.0, 4.4)
    ax = fig.subplots()
    kinds = [k for k in KIND_STYLE if any(k in lv["kinds"] for lv in levels)]
    all_x = [100 * lv["density"] for lv in levels] or [100.0]
    never = []
    for i, kind in enumerate(kinds):
        pts = _series(levels, kind, metric)
        color, marker = KIND_STYLE[kind]
        ticket = kind == "ticket"
        ys = [scale * st["mean"] if st.get("n") else math.nan for _, st, _ in pts]
        err = [scale * st["std"] if st.get("n", 0) > 1 and _finite(st.get("std")) else 0.0 for _, st, _ in pts]
        # The ticket solid and filled; controls dashed, hollow and drawn over it, so curves
        # that coincide (every net stopping at the last step) all stay visible.
        ax.errorbar([x for x, _, _ in pts], ys, yerr=err, color=color, marker=marker,
                    markersize=6 if ticket else 5, markerfacecolor=color if ticket else "white",
                    capsize=3, linewidth=2.2 if ticket else 1.2, linestyle="-" if ticket else "--",
                    zorder=3 + i, label=kind)
        for x, st, key in pts if runs is not None else []:
            total = runs.get(key, st.get("n", 0))
            if total and not st.get("n"):
                never.append((x, color, i))
            elif st.get("n", 0) < total:
                ax.annotate(f"{st['n']}/{total}", (x, scale * st["mean"]), textcoords="offset points",
                            xytext=(5, 5), fontsize=7, color=color)
    if never:
        lo, hi = ax.get_ylim()  # headroom: the triangles' rows stay clear of the data
        ax.set_ylim(lo, hi + (0.06 + 0.06 * len(kinds)) / 0.94 * (hi - lo))
        top = blended_transform_factory(ax.transData, ax.transAxes)
        for x, color, i in never:  # one row per kind, so kinds at the same level do not hide each other
            ax.plot([x], [0.96 - 0.05 * i], linestyle="none", marker="^", markersize=8, markerfacecolor="none",
                    markeredgecolor=color, transform=top, zorder=10)
        ax.plot([], [], linestyle="none", marker="^", markersize=8, markerfacecolor="none",
                markeredgecolor="grey", label="not reached")
    ax.set_xscale("log")
    ticks = level_ticks(all_x)
    ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(max(all_x) * 1.15, min(all_x) / 1.15)  # inverted: sparser to the right, as in the papers
    ax.set_xlabel("% of weights remaining (log)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)


def mask_overlaps(run_dir: Path, seeds: list[int], levels: int) -> dict:
    """IoU between the ticket masks of every pair of levels (first seed), and between seeds per level."""
    def masks(seed, level):
        p = run_dir / f"seed{seed}" / f"level{level:02d}" / "ticket" / "masks.safetensors"
        return load_tensors(p) if p.is_file() else None

    first = {lv: masks(seeds[0], lv) for lv in range(levels + 1)} if seeds else {}
    first = {k: v for k, v in first.items() if v is not None}
    between_levels = [[overlap(first[a], first[b], kind="iou") for b in first] for a in first]
    between_seeds = []
    for lv in range(1, levels + 1):
        ms = [m for m in (masks(s, lv) for s in seeds) if m is not None]
        pairs = [overlap(a, b, kind="iou") for a, b in itertools.combinations(ms, 2)]
        if pairs:
            d = sum(int(m.sum()) for m in ms[0].values()) / sum(m.numel() for m in ms[0].values())
            # two independent random masks of density d: E|a∧b| = d²n, E|a∨b| = (2d − d²)n
            between_seeds.append({"level": lv, "iou": sum(pairs) / len(pairs), "pairs": len(pairs),
                                  "chance": d / (2 - d)})
    return {"levels": list(first), "between_levels": between_levels, "between_seeds": between_seeds}


def plot_overlap(ov: dict, path: Path) -> Path | None:
    if not ov["levels"]:
        return None
    fig = _figure(10.0, 4.2)
    ax1, ax2 = fig.subplots(1, 2)
    im = ax1.imshow(ov["between_levels"], vmin=0, vmax=1, cmap="viridis")
    ax1.set_xticks(range(len(ov["levels"])), ov["levels"])
    ax1.set_yticks(range(len(ov["levels"])), ov["levels"])
    ax1.set_xlabel("level")
    ax1.set_ylabel("level")
    ax1.set_title("ticket mask IoU between levels (first seed)", fontsize=9)
    fig.colorbar(im, ax=ax1)
    if ov["between_seeds"]:
        lv = [r["level"] for r in ov["between_seeds"]]
        ax2.plot(lv, [r["iou"] for r in ov["between_seeds"]], "o-", label="tickets of different seeds")
        ax2.plot(lv, [r["chance"] for r in ov["between_seeds"]], "k--", label="random masks, same density")
        ax2.legend(fontsize=8)
    else:
        ax2.text(0.5, 0.5, "one seed: nothing to compare", ha="center", transform=ax2.transAxes)
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlabel("level")
    ax2.set_ylabel("mean IoU over seed pairs")
    ax2.set_ylim(0, 1)
    ax2.set_title("ticket mask IoU between seeds", fontsize=9)
    return _save(fig, path)


_INIT_COLOR = {"signed_constant": "tab:red", "kaiming_normal": "tab:blue"}


def plot_edge_popup(rows: list[dict], path: Path, dense: float | None) -> Path | None:
    """Edge-popup accuracy vs k: colour = frozen init, solid = weight pruning, dashed = neuron pruning.

    The legend sits beside the panel: its five entries would cover the curves anywhere inside.
    """
    if not rows:
        return None
    fig = _figure(7.8, 4.2)
    ax = fig.subplots()
    for key in sorted({(r["init"], r["mode"]) for r in rows}):
        pts = sorted((r["k"], r["accuracy"]) for r in rows if (r["init"], r["mode"]) == key)
        ks = sorted({k for k, _ in pts})
        means = [sum(a for k2, a in pts if k2 == k) / sum(1 for k2, _ in pts if k2 == k) for k in ks]
        weight = key[1] == "weight"
        ax.plot(ks, [100 * m for m in means], marker="o" if weight else "s", linestyle="-" if weight else "--",
                color=_INIT_COLOR.get(key[0]), markerfacecolor=None if weight else "white",
                label=f"{key[0].replace('_', ' ')}, {'weights' if weight else 'neurons'}")
    if dense is not None:
        ax.axhline(100 * dense, color="grey", linestyle=":", label="dense trained")
    value_axis(ax, sorted({r["k"] for r in rows}), "x", log=False)
    ax.set_xlabel("k: % of weights kept")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("edge-popup on frozen random weights (mean over seeds)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return _save(fig, path)


def plot_early_bird(rows: list[dict], path: Path) -> Path | None:
    # rewind and continue share the dense run, hence the distances: one curve per (seed, structure)
    rows = list({(r["seed"], r["structure"]): r for r in rows if r.get("distances")}.values())
    if not rows:
        return None
    fig = _figure(6.5, 4.0)
    ax = fig.subplots()
    for r in rows:
        steps = [d["step"] for d in r["distances"]]
        line, = ax.plot(steps, [d["distance"] for d in r["distances"]], label=f"seed {r['seed']}, {r['structure']}")
        if r.get("draw_step") is not None:
            ax.axvline(r["draw_step"], color=line.get_color(), linestyle=":")
    ax.axhline(rows[0]["threshold"], color="grey", linestyle="--", label="threshold")
    ax.set_xlabel("dense training step")
    ax.set_ylabel("normalized Hamming distance to previous mask")
    ax.set_title("early-bird mask distance (dotted: ticket drawn)", fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_approximation(rows: list[dict], path: Path) -> Path | None:
    if not rows:
        return None
    widths = sorted({r["width"] for r in rows})
    kl = [sum(r["kl"] for r in rows if r["width"] == w) / sum(1 for r in rows if r["width"] == w) for w in widths]
    fig = _figure(6.0, 4.0)
    ax = fig.subplots()
    ax.plot(widths, kl, "o-")
    value_axis(ax, widths, "x", base=2)  # widths as 16, 64, 256, not 2×10¹
    log_axis(ax, "y")
    ax.set_xlabel("width n of the random depth-4 net")
    ax.set_ylabel("KL(target || pruned random net), test inputs")
    ax.set_title("approximating a trained depth-2 net by pruning only", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, path)


def _has_val(results: dict) -> bool:
    """False for a run without a validation split (n_val 0): early stopping and speed not measured."""
    return (results.get("data") or {}).get("n_val", results.get("config", {}).get("n_val", 1)) != 0


def artifact_counts(rows: list[dict]) -> Counter:
    """How many artifacts (one per seed) each (level, kind) has."""
    return Counter((r["level"], r["kind"]) for r in rows)


def speed_cell(stat: dict, total: int) -> str:
    """The learning-speed cell: mean step, "not reached", or "mean (k/n reached)"."""
    n = stat.get("n", 0)
    if not n:
        return "not reached" if total else "—"
    cell = format_mean_std(stat, spec=".0f")
    return cell + (f" ({n}/{total} reached)" if n < total else "")


def _seconds(value) -> float:
    """Seconds a run recorded: a number, or the sum of a list / dict of them (per segment)."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return sum(_seconds(v) for v in value)
    return float(value) if _finite(value) else 0.0


def training_seconds(rows: list[dict]) -> tuple[float, int]:
    """(sum of train_seconds, number of artifacts that recorded one) over the per-artifact rows.

    This is the run's training time however its results.json was assembled: a run whose
    artifacts were trained elsewhere (seed directories merged, then read back) still shows the
    time their training took, not the seconds spent reading them.
    """
    timed = [r for r in rows if r.get("train_seconds") is not None]
    return sum(_seconds(r["train_seconds"]) for r in timed), len(timed)


def timing_line(results: dict) -> str:
    secs, n = training_seconds(results.get("rows", []))
    line = (f"Training time: {secs:.1f} s, the sum of what the {n} trained tickets and controls recorded"
            if n else "Training time: not recorded")
    line += " (early-bird, edge-popup and approximation extras are not timed)" if any(
        results.get(k) for k in ("early_bird", "edge_popup", "approximation")) else ""
    wall = results.get("wall_seconds")
    if _finite(wall):
        line += (f". The invocation that wrote results.json took {wall:.1f} s of wall time"
                 + (" (it read finished artifacts back instead of training them)" if n and wall < 0.5 * secs else ""))
    return line + "."


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _markdown(results: dict, ov: dict, images: list[str]) -> str:
    s = results["summary"]
    cfg = results.get("config", {})
    kinds = [k for k in KIND_STYLE if any(k in lv["kinds"] for lv in s["levels"])]
    noise = cfg.get("label_noise", 0)
    title = "Sparse double descent" if noise else "Lottery tickets"
    out = [f"# {title}: {cfg.get('model')} on {cfg.get('dataset')}", "",
           f"seeds {cfg.get('seeds')}, {cfg.get('steps')} steps per level, batch {cfg.get('batch_size')}, "
           f"{cfg.get('optimizer')} lr {cfg.get('lr')}, rate {cfg.get('rate')} (output {cfg.get('output_rate')}), "
           f"{cfg.get('scope')}, rewind step {cfg.get('rewind_step')}, criterion {cfg.get('criterion')}"
           + (f", label noise {noise}" if noise else ""), ""]
    data = results.get("data")
    if data:  # older results.json have no "data" record
        where = (f"generated with data seed {data['data_seed']}" if data.get("data_seed") is not None
                 else f"from {data.get('source')}")
        out += [f"Data: {data.get('dataset')}, {where}: {data.get('n_train')} training, {data.get('n_val')} "
                f"validation (the last training examples), {data.get('n_test')} test examples.", ""]
    out += [f"- Note: {note}" for note in results.get("notes", [])] + ([""] if results.get("notes") else [])
    out += [f"- Warning: {w}" for w in results.get("warnings", [])] + ([""] if results.get("warnings") else [])
    m = results.get("machine", {})
    out += [f"Machine: {m.get('cpu')}, {threads_text(m.get('threads'))}, torch {m.get('torch')}, {m.get('date')}.",
            "", timing_line(results), ""]
    n_seeds = len(cfg.get("seeds") or []) or max((st["test_accuracy"]["n"] for lv in s["levels"]
                                                   for st in lv["kinds"].values()), default=0)
    out += ["## Test accuracy (%) per level", "",
            "One seed: each cell is that seed's value (no spread to show)." if n_seeds == 1 else
            f"Cells are mean ± sample standard deviation (ddof = 1) over {n_seeds} seeds.", ""]
    has_val = _has_val(results)
    runs = artifact_counts(results.get("rows", []))
    rows = []
    for lv in s["levels"]:
        cells = [format_mean_std(lv["kinds"][k]["test_accuracy"], 100.0) if k in lv["kinds"] else ""
                 for k in kinds]
        t = lv["kinds"].get("ticket", {})
        es = format_mean_std(t.get("early_stop_step", {}), spec=".0f")
        sp = speed_cell(t.get("speed_step", {}), runs.get((lv["level"], "ticket"), 0))
        rows.append([str(lv["level"]), _pct(lv["density"]), *cells] + ([es, sp] if has_val else []))
    out += _table(["level", "% remaining", *kinds]
                  + (["ticket early-stop step", "ticket step to 99% of dense"] if has_val else []), rows) + [""]
    if has_val:
        out += ["Learning speed: the first evaluated step whose validation accuracy reaches 99% of the dense "
                "net's best; \"not reached\" when no seed got there within the run, \"k/n\" when k of n seeds "
                "did (the step is then their mean). In learning_speed.png a hollow triangle along the top edge marks "
                "a point no seed reached.", ""]
    if s["claims"]:
        out += ["## Checks", ""] + [f"- [{'x' if c['holds'] else ' '}] {c['claim']} ({c['detail']})"
                                    for c in s["claims"]] + [""]
    if s.get("supermask"):
        out += ["## Supermasks (untrained, Zhou et al. 2019): best rows", ""]
        out += _table(["criterion", "density %", "weights", "accuracy %"],
                      [[r["criterion"], _pct(r["density"]), r["weights"], format_mean_std(r, 100.0)]
                       for r in s["supermask"][:12]]) + [""]
    if ov["between_seeds"]:
        out += ["## Mask overlap between seeds (IoU)", ""]
        out += _table(["level", "IoU", "IoU of random masks"],
                      [[str(r["level"]), f"{r['iou']:.3f}", f"{r['chance']:.3f}"] for r in ov["between_seeds"]]) + [""]
    for section in ("early_bird", "edge_popup", "approximation"):
        rows = results.get(section) or []
        if rows:
            keys = [k for k in rows[0] if not isinstance(rows[0][k], (list, dict))]
            out += [f"## {section.replace('_', '-')}", ""]
            out += _table(keys, [[f"{r.get(k):.4g}" if isinstance(r.get(k), float) else "—" if r.get(k) is None else str(r.get(k))
                                  for k in keys]
                                 for r in rows]) + [""]
    for note in results.get("extras_notes", []):
        out.append(f"- {note}")
    out += [""] + run_execution_lines(results.get("rows", []))
    out += [f"![{p}]({p})" for p in images]
    return "\n".join(out) + "\n"


@REPORTS.register("lottery")
def write_lottery_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    from ..lottery.summary import summarize

    run_dir = Path(run_dir)
    # recomputed from the per-artifact rows, so a report of an older run gets every current check
    s = results["summary"] = summarize(results.get("rows", []), results.get("supermask", []), results)
    cfg = results.get("config", {})
    written: list[Path] = []
    noise = cfg.get("label_noise", 0)
    several = len(cfg.get("seeds") or []) != 1
    controls = any(k != "ticket" for lv in s["levels"] for k in lv["kinds"])
    written.append(plot_levels(s["levels"], "test_accuracy", run_dir / "ticket_plot.png", "test accuracy (%)",
                               ("sparse double descent: " if noise else "")
                               + ("ticket vs controls" if controls else "winning ticket per level")
                               + (", mean ± std over seeds" if several else ", one seed")))
    if _has_val(results):
        written.append(plot_levels(s["levels"], "early_stop_step", run_dir / "early_stop.png",
                                   "early-stopping iteration", "step of minimum validation loss", scale=1.0))
        written.append(plot_levels(s["levels"], "speed_step", run_dir / "learning_speed.png", "training step",
                                   "first step with validation accuracy >= 99% of the dense net's best", scale=1.0,
                                   runs=artifact_counts(results.get("rows", []))))
    ov = mask_overlaps(run_dir, list(cfg.get("seeds", [])), int(cfg.get("levels", 0)))
    for p in (plot_overlap(ov, run_dir / "mask_overlap.png"),
              plot_edge_popup(results.get("edge_popup") or [], run_dir / "edge_popup.png",
                              next((lv["kinds"]["ticket"]["test_accuracy"]["mean"] for lv in s["levels"]
                                    if lv["level"] == 0), None)),
              plot_early_bird(results.get("early_bird") or [], run_dir / "early_bird.png"),
              plot_approximation(results.get("approximation") or [], run_dir / "approximation.png")):
        if p is not None:
            written.append(p)
    images = [p.name for p in written]
    written.append(write_text(run_dir / "report.md", _markdown(results, ov, images)))
    return written


__all__ = ["mask_overlaps", "write_lottery_report"]
