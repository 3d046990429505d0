"""Report of `sparsenet reproduce second-order`: figures and report.md from results.json only.

Figures: saddle.png (loss and distance to the saddle vs iteration), rosenbrock.png, slow_net.png
and pruned.png (training loss vs iterations and vs wall-clock seconds). A part missing from
results.json (not run) is left out with a note.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

from . import REPORTS
from ..io import write_text
from .markdown import _table, fmt, machine_line
from .plots import _figure, _save
from .ticks import log_axis

_ORDER = ("gd", "sgd", "adam", "newton", "sfn", "krylov-sfn", "hessian-free")
_COLOR = {"gd": "tab:gray", "sgd": "tab:gray", "adam": "tab:olive", "newton": "tab:red", "sfn": "tab:blue",
          "krylov-sfn": "tab:cyan", "hessian-free": "tab:purple"}


def _pos(values):
    """Values for a log axis: non-positive or non-finite entries become None (a gap)."""
    return [v if isinstance(v, (int, float)) and math.isfinite(v) and v > 0 else None for v in values]


def _plot_saddle(part: Mapping, path: Path) -> Path:
    probs = part["problems"]
    fig = _figure(10, 3.6 * len(probs))
    for row, (name, prob) in enumerate(probs.items()):
        ax_l, ax_d = fig.add_subplot(len(probs), 2, 2 * row + 1), fig.add_subplot(len(probs), 2, 2 * row + 2)
        top = 0.0
        for i, run in enumerate(_sorted(prob["runs"])):
            m = run["method"]
            style = dict(label=m, color=_COLOR.get(m), linestyle=_STYLE.get(m, ("-",))[0],
                         linewidth=max(0.9, 2.4 - 0.4 * i), zorder=2 + i)
            ax_l.plot(range(len(run["loss"])), run["loss"], **style)
            dist = _pos(run["distance_to_saddle"])
            ax_d.plot(range(len(dist)), dist, **style)
            top = max([top] + [d for d in dist if d is not None])
        ax_l.axhline(prob["saddle_loss"], color="k", ls=":", lw=0.8, label="saddle")
        ax_l.set(title=f"{name}: loss", xlabel="iteration", ylabel="loss")
        log_axis(ax_d, "y")
        ax_d.set(title=f"{name}: ‖w − saddle‖ (axis from 1e-18)", xlabel="iteration", ylabel="distance (log)",
                 ylim=(1e-18, 10 * top if top > 0 else None))
        ax_l.legend(fontsize=8)
    return _save(fig, path)


# Methods that land on top of each other (gd under adam, sfn under krylov-sfn) stay visible:
# each has its own line style and marker, and the later-listed method draws thinner on top.
_STYLE = {"gd": ("-", "o"), "sgd": ("-", "o"), "adam": ("--", "s"), "newton": ("-", "D"),
          "sfn": ("-", "^"), "krylov-sfn": ("--", "v"), "hessian-free": ("-.", "x")}


def _plot_rosenbrock(part: Mapping, path: Path) -> Path:
    fig = _figure(6.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    runs = _sorted(part["runs"])
    for i, run in enumerate(runs):
        m = run["method"]
        style, marker = _STYLE.get(m, ("-", "o"))
        n = len(run["loss"])
        # iteration + 1 on a log axis: the first iterations, where Newton-type methods finish,
        # get as much room as the hundreds GD needs; iteration 0 sits at 1.
        ax.plot(range(1, n + 1), _pos(run["loss"]), label=m, color=_COLOR.get(m), linestyle=style,
                marker=marker, markevery=_markevery(n), markersize=4, fillstyle="none",
                linewidth=max(0.9, 2.6 - 0.35 * i), zorder=2 + i)
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.set(title="Rosenbrock from (-1.2, 1)", xlabel="iteration + 1 (log)", ylabel="f (log)")
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=8)
    return _save(fig, path)


def _markevery(n: int) -> list[int]:
    """About 8 markers, evenly spaced on a log axis of 1..n."""
    if n <= 8:
        return list(range(n))
    return sorted({min(n - 1, int(round(math.exp(k * math.log(n) / 8)) - 1)) for k in range(9)})


def _plot_curves(part: Mapping, path: Path, title: str) -> Path:
    fig = _figure(11, 4)
    ax_i, ax_s = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for run in part["runs"]:
        m = run["method"]
        ax_i.plot(run["iteration"], run["train_loss"], marker=".", label=m, color=_COLOR.get(m))
        ax_s.plot([max(s, 1e-3) for s in run["seconds"]], run["train_loss"], marker=".", label=m, color=_COLOR.get(m))
    ax_i.set(title=f"{title}: training loss vs iterations", xlabel="iteration", ylabel="training loss")
    ax_s.set(title="training loss vs wall-clock", xlabel="optimizer seconds (log; 0 drawn at 1e-3)", xscale="log")
    ax_i.legend(fontsize=8)
    return _save(fig, path)


def _saddle_md(part: Mapping) -> list[str]:
    lines = ["## (a) Saddle escape", "",
             f"{part['iterations']} iterations; GD lr {part['gd_lr']}; Newton = −H⁻¹g (δ = 1e-8); "
             f"SFN = −|H|⁻¹g (δ = {part['sfn_damping']}, Armijo line search).", ""]
    for name, prob in part["problems"].items():
        rows = [[r["method"], fmt(r["loss"][0], ".4g"), fmt(r["final_loss"], ".4g"), fmt(r["final_distance"], ".3g"),
                 str(r["escaped_at"]) if r["escaped_at"] is not None else "never"] for r in _sorted(prob["runs"])]
        lines += [f"**{name}** — saddle loss {fmt(prob['saddle_loss'], '.4g')}, minimum {fmt(prob['minimum_loss'], '.4g')}", "",
                  _table(["method", "start loss", "final loss", "final ‖w − saddle‖", "escaped at iteration"], rows), ""]
    return lines


def _rosen_md(part: Mapping) -> list[str]:
    rows = [[r["method"], fmt(r["final_loss"], ".3g"), str(r["iterations_to_1e-8"] or "never"), fmt(r["seconds"], ".2f")]
            for r in _sorted(part["runs"])]
    return ["## (b) Rosenbrock", "", f"{part['iterations']} iterations from (−1.2, 1).", "",
            _table(["method", "final f", "iterations to f < 1e-8", "seconds"], rows), ""]


def _curves_md(part: Mapping, title: str, intro: str) -> list[str]:
    rows = []
    for r in _sorted(part["runs"]):
        rows.append([r["method"], str(r["iteration"][-1]), fmt(r["train_loss"][0], ".4f"), fmt(r["final_train_loss"], ".4f"),
                     fmt(r["final_test_accuracy"], ".4f"), fmt(r["train_seconds"], ".2f"),
                     fmt(r["seconds_per_iteration"] * 1e3, ".1f"), r["diverged"] or ""])
    lines = [title, "", intro, "",
             _table(["method", "iterations", "start loss", "final training loss", "test accuracy", "seconds", "ms / iteration",
                     "diverged"], rows), ""]
    runs = {r["method"]: r for r in part["runs"]}
    if "sfn" in runs and "sgd" in runs:
        sfn, sgd = runs["sfn"], runs["sgd"]
        verdict = "lower" if sfn["final_train_loss"] < sgd["final_train_loss"] else "not lower"
        lines += [f"After {sfn['iteration'][-1]} iterations exact SFN's training loss ({sfn['final_train_loss']:.4f}) is "
                  f"**{verdict}** than SGD's after {sgd['iteration'][-1]} ({sgd['final_train_loss']:.4f}); "
                  f"it took {sfn['train_seconds']:.1f} s against {sgd['train_seconds']:.1f} s.", ""]
    return lines


def _sorted(runs):
    return sorted(runs, key=lambda r: _ORDER.index(r["method"]) if r["method"] in _ORDER else len(_ORDER))


@REPORTS.register("second-order")
def write_second_order_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    run_dir = Path(run_dir)
    parts = results.get("parts", {})
    written, lines = [], ["# Second-order training (seed 001)", "", machine_line(results.get("machine")),
                          f"Quick run: {'yes' if results.get('quick') else 'no'}. Part seconds: "
                          + ", ".join(f"{k} {v:.1f}" for k, v in results.get("part_seconds", {}).items()), ""]
    if "saddle" in parts:
        written.append(_plot_saddle(parts["saddle"], run_dir / "saddle.png"))
        lines += _saddle_md(parts["saddle"]) + ["![saddle](saddle.png)", ""]
    if "rosenbrock" in parts:
        written.append(_plot_rosenbrock(parts["rosenbrock"], run_dir / "rosenbrock.png"))
        lines += _rosen_md(parts["rosenbrock"]) + ["![rosenbrock](rosenbrock.png)", ""]
    if "slow-net" in parts:
        p = parts["slow-net"]
        written.append(_plot_curves(p, run_dir / "slow_net.png", "slow net"))
        intro = (f"{p['dataset']}, {p['shape']}, {p['parameters']} trained parameters (Hessian blocks {p['hessian_blocks']}), "
                 f"batch {p['batch_size']}; training loss on {p['eval_samples']} training samples. Settings: {p['settings']}.")
        lines += _curves_md(p, "## (c) The seed's slow net", intro) + ["![slow net](slow_net.png)", ""]
    if "pruned" in parts:
        p = parts["pruned"]
        written.append(_plot_curves(p, run_dir / "pruned.png", "pruned subspace"))
        b = p["burnin"]
        intro = (f"{p['dataset']}, {p['model']} ({p['dense_parameters']} parameters), {b['steps']} dense SGD steps "
                 f"(loss {b['final_train_loss']:.4f}, test accuracy {b['final_test_accuracy']:.4f}), global magnitude "
                 f"pruning to {p['live_weights']} weights; the exact Newton system has {p['newton_system_size']} live "
                 f"entries (weights + biases). Settings: {p['settings']}.")
        lines += _curves_md(p, "## (d) Newton in the pruned subspace", intro) + ["![pruned](pruned.png)", ""]
    missing = [k for k in ("saddle", "rosenbrock", "slow-net", "pruned") if k not in parts]
    if missing:
        lines += [f"Parts not run: {', '.join(missing)}.", ""]
    written.append(write_text(run_dir / "report.md", "\n".join(lines)))
    return written


__all__ = ["write_second_order_report"]
