"""Report of a `sparsenet dst` run, from results.json only.

Figures: test accuracy vs step per method, mean over seeds with the min-max band
(``accuracy_vs_step.png``); live weights per layer over the pattern updates, one panel per method
(``live_weights.png``); the fraction of live connections rewired (grown / live) at each update
(``rewired_fraction.png``); the final |w| histogram of the live weights, one panel per rewired layer
and one curve per method (``weights_hist.png``). ``report.md``: final test accuracy mean ± std over
seeds per method (static included), the time in training steps vs in pattern updates, the weight
memory (dense equivalent vs stored), the per-layer densities and the layers made dense.
"""
from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from . import REPORTS
from ..io import write_text
from .markdown import _notes, _table, fmt, machine_line
from .plots import _figure, _save
from .ticks import log_axis

ORDER = ("static", "set", "rigl", "snfs", "grow-prune")
STYLES = {"static": ("s", "-"), "set": ("o", "-"), "rigl": ("^", "--"), "snfs": ("v", ":"), "grow-prune": ("D", "-")}
COLORS = {"static": "tab:gray", "set": "tab:blue", "rigl": "tab:red", "snfs": "tab:green", "grow-prune": "tab:purple"}


def _methods(results: dict) -> list[str]:
    names = list(results.get("methods") or dict.fromkeys(t["method"] for t in results.get("trials", [])))
    return sorted(names, key=lambda m: (ORDER.index(m) if m in ORDER else len(ORDER), m))


def _by_method(results: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for t in results.get("trials", []):
        out.setdefault(t["method"], []).append(t)
    return out


def _color(m: str, i: int) -> str:
    return COLORS.get(m, f"C{i % 10}")


def _style(m: str) -> tuple[str, str]:
    """(marker, line style): RigL and SNFS often coincide (same ζ schedule), so they differ in both."""
    return STYLES.get(m, ("o", "-"))


def _mean_std(xs: list[float]) -> tuple[float, float]:
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def _aligned(trials: list[dict], key) -> tuple[list[float], np.ndarray] | None:
    """(x, values (seeds, points)) over the x values every trial has."""
    series = [dict(key(t)) for t in trials]
    xs = sorted(set.intersection(*(set(s) for s in series))) if series else []
    if not xs:
        return None
    return xs, np.array([[s[x] for x in xs] for s in series], dtype=float)


def _held(steps: list[int], values: list[float], end: int) -> list[tuple[int, float]]:
    """(step, value) pairs, the last value held to the trial's last step (a pattern holds between updates)."""
    pts = list(zip(steps, values))
    if pts and pts[-1][0] < end:
        pts.append((end, pts[-1][1]))
    return pts


def plot_accuracy(results: dict, path: Path, title: str) -> Path | None:
    by = _by_method(results)
    fig = _figure(7.5, 4.5)
    ax = fig.subplots()
    drawn = False
    for i, m in enumerate(_methods(results)):
        # step 0 (the untrained network, at chance) is left out: it would squash the curves together
        got = _aligned(by.get(m, []), lambda t: ((c["step"], 100 * c["accuracy"]) for c in t["curve"]
                                                 if c["step"] > 0 or len(t["curve"]) == 1))
        if got is None:
            continue
        xs, v = got
        n = v.shape[0]
        ax.plot(xs, v.mean(0), marker=_style(m)[0], linestyle=_style(m)[1], markersize=3.5, linewidth=1.5,
                color=_color(m, i), label=m if n == 1 else f"{m} (mean of {n})")
        if n > 1:
            ax.fill_between(xs, v.min(0), v.max(0), color=_color(m, i), alpha=0.15, linewidth=0)
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel("training step (the untrained step-0 accuracy is in report.md)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def plot_live_weights(results: dict, path: Path, title: str) -> Path | None:
    by = _by_method(results)
    methods = [m for m in _methods(results) if by.get(m)]
    layers = [lp["name"] for lp in results.get("layers", []) if not lp.get("dense")]
    if not methods or not layers:
        return None
    ncols = min(3, len(methods))
    nrows = math.ceil(len(methods) / ncols)
    fig = _figure(4.0 * ncols + 1.6, 3.1 * nrows + 0.5)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False, sharey=True)).ravel()
    for ax, m in zip(axes, methods):
        for j, n in enumerate(layers):
            got = _aligned(by[m], lambda t: _held(t["live"]["steps"], t["live"]["layers"][n], t["steps"]))
            if got is None:
                continue
            xs, v = got
            ax.plot(xs, v.mean(0), drawstyle="steps-post", color=f"C{j}", linewidth=1.4, label=n)
        n_seeds = len(by[m])
        ax.set_title(m if n_seeds == 1 else f"{m} (mean of {n_seeds} seeds)", fontsize=9)
        ax.set_xlabel("training step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    log_axis(axes[0], "y")
    for ax in axes[::ncols]:
        ax.set_ylabel("live weights (log)", fontsize=8)
    for ax in axes[len(methods):]:
        ax.set_visible(False)
    axes[ncols - 1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.03, 1.0), borderaxespad=0.0)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_rewired(results: dict, path: Path, title: str) -> Path | None:
    by = _by_method(results)
    fig = _figure(7.5, 4.2)
    ax = fig.subplots()
    drawn = False
    for i, m in enumerate(_methods(results)):
        got = _aligned(by.get(m, []), lambda t: ((u["step"], 100 * u["rewired"]) for u in t["updates"]))
        if got is None:
            continue
        xs, v = got
        ax.plot(xs, v.mean(0), marker=_style(m)[0], linestyle=_style(m)[1], markersize=4, linewidth=1.4,
                color=_color(m, i), label=m)
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel("training step of the pattern update")
    ax.set_ylabel("connections rewired (% of live)")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


def plot_weights_hist(results: dict, path: Path, title: str) -> Path | None:
    by = _by_method(results)
    methods = [m for m in _methods(results) if by.get(m)]
    layers = [lp["name"] for lp in results.get("layers", []) if not lp.get("dense")]
    if not methods or not layers:
        return None
    ncols = min(3, len(layers))
    nrows = math.ceil(len(layers) / ncols)
    fig = _figure(4.3 * ncols + 1.4, 3.3 * nrows + 0.5)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, n in zip(axes, layers):
        shares = {}
        for m in methods:
            hists = [t["weights_hist"] for t in by[m]]
            counts = np.sum([h["counts"][n] for h in hists], axis=0).astype(float)
            total = counts.sum() + sum(h["zeros"][n] for h in hists)
            if total > 0:
                shares[m] = (np.asarray(hists[0]["edges"]), 100 * counts / total)
        used = [np.nonzero(v)[0] for _, v in shares.values() if v.any()]
        if not used:
            continue
        lo, hi = min(int(u[0]) for u in used), max(int(u[-1]) for u in used) + 1  # the occupied bins
        for i, m in enumerate(methods):
            if m in shares:
                edges, share = shares[m]
                ax.stairs(share[lo:hi], edges[lo:hi + 1], color=_color(m, i), linewidth=1.3,
                          linestyle=_style(m)[1], label=m)
        log_axis(ax, "x")
        ax.set_title(n, fontsize=9)
        ax.set_xlabel("|w| of live weights (log)", fontsize=8)
        ax.set_ylabel("% of live weights per bin", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(layers):]:
        ax.set_visible(False)
    axes[min(ncols, len(layers)) - 1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.03, 1.0),
                                              borderaxespad=0.0)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


# ----------------------------------------------------------------------------- report.md

def _mb(b: float) -> str:
    return f"{b / 2 ** 20:.3f}"


def accuracy_rows(results: dict) -> list[list[str]]:
    by = _by_method(results)
    rows = []
    for m in _methods(results):
        ts = by.get(m, [])
        if not ts:
            continue
        mean, sd = _mean_std([100 * t["test_accuracy"] for t in ts])
        live = statistics.fmean(t["live"]["total"] for t in ts)
        start = [100 * t["curve"][0]["accuracy"] for t in ts if t["curve"] and t["curve"][0]["step"] == 0]
        rows.append([m, f"{mean:.2f} ± {sd:.2f}", str(len(ts)), fmt(statistics.fmean(start) if start else None),
                     f"{live:.0f}",
                     (results.get("methods") or {}).get(m, ts[0].get("paper", ""))])
    return rows


def time_rows(results: dict) -> list[list[str]]:
    by = _by_method(results)
    rows = []
    for m in _methods(results):
        ts = by.get(m, [])
        if not ts:
            continue
        steps = statistics.fmean(t["seconds"]["training_steps"] for t in ts)
        upd = statistics.fmean(t["seconds"]["pattern_updates"] for t in ts)
        n_upd = statistics.fmean(len(t["updates"]) for t in ts)
        n_steps = statistics.fmean(t["steps"] for t in ts)
        per_upd = 1000 * upd / n_upd if n_upd else float("nan")
        per_step = 1000 * steps / n_steps if n_steps else float("nan")
        share = 100 * upd / (steps + upd) if steps + upd > 0 else float("nan")
        rows.append([m, fmt(steps), fmt(per_step, ".3f"), f"{n_upd:.0f}", fmt(upd, ".3f"), fmt(per_upd, ".2f"),
                     fmt(share, ".1f", "%")])
    return rows


def memory_rows(results: dict) -> list[list[str]]:
    by = _by_method(results)
    rows = []
    for m in _methods(results):
        ts = by.get(m, [])
        if not ts:
            continue
        mem = ts[0]["memory"]
        rss = max(t["peak_rss_bytes"] for t in ts)
        rows.append([m, _mb(mem["dense_bytes"]), _mb(mem["stored_bytes"]),
                     fmt(mem["stored_bytes"] / mem["dense_bytes"], ".3f"), _mb(rss)])
    return rows


def dst_markdown(name: str, results: dict, images: list[tuple[str, str]], notes: list[str]) -> str:
    rule = results.get("sparsity") or {}
    how = (f"ε = {rule['epsilon']:g} per layer (Erdős–Rényi)" if "epsilon" in rule
           else f"overall density {rule.get('density')} split by {rule.get('allocation')}")
    sch = results.get("schedule") or {}
    lines = [f"# {name}: dynamic sparse training", "", machine_line(results.get("machine")), "",
             f"Command: `{results.get('command', '')}`", "",
             f"Model {results.get('spec')} ({results.get('activation')}) on {results.get('dataset')} "
             f"({results.get('n_train')} training / {results.get('n_test')} test examples); sparsity: {how}, "
             f"overall density of the sparse layers {100 * results.get('final_density', float('nan')):.3g}%. "
             f"{sch.get('steps')} steps of batch {sch.get('batch_size')}, {sch.get('optimizer')} lr {sch.get('lr')}; "
             f"pattern updates every ΔT = {sch.get('delta_t')} steps until step {sch.get('end_step')}, "
             f"ζ = {sch.get('zeta')}; execution: {results.get('execution')}.", ""]
    gp = sch.get("grow_prune")
    if gp:
        lines += [f"grow-prune: density {100 * gp['start_density']:.3g}% at the start, up to "
                  f"{100 * gp['peak_density']:.3g}% at step {gp['grow_end']}, cubic pruning to the final density "
                  f"by step {gp['prune_end']}, then rewiring at that density.", ""]
    lines += ["## Final test accuracy", "",
              _table(["method", "test accuracy (%) mean ± std", "seeds", "at step 0 (%)", "live weights (sparse layers)",
                      "paper"], accuracy_rows(results), "lrrrrl"), ""]
    lines += ["## Time: training steps vs pattern updates", "",
              "Training steps = the loop's clock minus the pattern updates (the updates run inside the loop, "
              "in the DST hook); the growth-score capture for RigL / SNFS / grow-prune counts as training.", "",
              _table(["method", "training steps (s)", "per step (ms)", "updates", "pattern updates (s)",
                      "per update (ms)", "share of time"], time_rows(results)), ""]
    lines += ["## Weight memory", "",
              "Dense equivalent = every layer dense in float32 (weights + biases); stored = what the layers hold "
              "(CSR values, indices and the transposed pattern, biases; masked execution: dense weights + masks). "
              "Peak RSS is the process's peak so far when the trial ended (trials run one after another).", "",
              _table(["method", "dense equivalent (MiB)", "stored (MiB)", "stored / dense", "peak RSS (MiB)"],
                     memory_rows(results)), ""]
    lines += ["## Layers", "",
              _table(["layer", "shape", "density", "rewired"],
                     [[lp["name"], "×".join(map(str, lp["shape"])), f"{100 * lp['density']:.3g}%",
                       "no (dense)" if lp.get("dense") else "yes"] for lp in results.get("layers", [])]), ""]
    dense = results.get("dense_layers") or []
    lines += [f"- {d['note']}" for d in dense] or ["No layer was made dense."]
    lines.append("")
    lines += ["## Figures", ""] + [f"![{t}]({f})\n" for t, f in images]
    lines += _notes(notes)
    return "\n".join(lines)


@REPORTS.register("dst")
def write_dst_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    """Write the four figures and report.md of a `sparsenet dst` run directory."""
    run_dir = Path(run_dir)
    name = run_dir.resolve().name
    notes: list[str] = [f"Warning: {w}" for w in results.get("warnings", [])]
    written: list[Path] = []
    images: list[tuple[str, str]] = []
    spec = f"{results.get('spec', '')} on {results.get('dataset', '')}"
    for fname, what, fn, title in (
            ("accuracy_vs_step.png", "test accuracy vs step", plot_accuracy, f"{name}: test accuracy, {spec}"),
            ("live_weights.png", "live weights per layer", plot_live_weights, f"{name}: live weights per layer"),
            ("rewired_fraction.png", "fraction rewired per update", plot_rewired,
             f"{name}: connections rewired at each pattern update"),
            ("weights_hist.png", "final |w| of live weights", plot_weights_hist, f"{name}: final |w| of live weights")):
        p = fn(results, run_dir / fname, title)
        if p is None:
            notes.append(f"{fname} not drawn: no data for it in results.json.")
            continue
        written.append(p)
        images.append((what, p.name))
    if "static" in results.get("methods", {}) and len(results["methods"]) > 1:
        notes.append("static (FixProb) makes no pattern updates: it has no curve in rewired_fraction.png.")
    if "grow-prune" in results.get("methods", {}):
        notes.append("grow-prune's updates before its peak grow more connections than they drop (the layers "
                     "densify): its rewired fraction there counts every grown connection.")
    written.append(write_text(run_dir / "report.md", dst_markdown(name, results, images, notes)))
    return written
