"""Figures of `sparsenet search`: final positions of every individual evaluated (Lehman & Stanley's
Figure 6 style), runs solved vs evaluations, and network size over generations."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from matplotlib.figure import Figure

from .plots import DPI, _figure, _save

STYLE = {"novelty": ("tab:blue", "-"), "objective": ("tab:red", "--"), "hybrid": ("tab:green", "-.")}


def _style(method: str) -> tuple[str, str]:
    return STYLE.get(method, ("tab:gray", ":"))


def _draw_maze(ax, maze: Mapping[str, Any]) -> None:
    for x1, y1, x2, y2 in maze["walls"]:
        ax.plot([x1, x2], [y1, y2], color="black", lw=2.0, solid_capstyle="round", zorder=3)
    sx, sy = maze["start"]
    gx, gy = maze["goal"]
    ax.plot([sx], [sy], marker="s", ms=9, color="tab:orange", mec="black", ls="none", zorder=5, label="start")
    ax.plot([gx], [gy], marker="*", ms=15, color="gold", mec="black", ls="none", zorder=5, label="goal")
    w = np.asarray(maze["walls"], float)
    x0, x1 = min(w[:, 0].min(), w[:, 2].min()), max(w[:, 0].max(), w[:, 2].max())
    y0, y1 = min(w[:, 1].min(), w[:, 3].min()), max(w[:, 1].max(), w[:, 3].max())
    pad = 0.03 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y1 + pad, y0 - pad)  # y grows downwards, as the paper draws its mazes
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def plot_final_positions(maze: Mapping[str, Any], panels: Sequence[tuple[str, str, np.ndarray]], path: Path) -> Path:
    """One panel per (method, title, positions (E, 2)): each evaluated individual's final position,
    coloured by when it was evaluated."""
    n = len(panels)
    w = np.asarray(maze["walls"], float)
    aspect = (w[:, [1, 3]].max() - w[:, [1, 3]].min()) / max(1e-9, w[:, [0, 2]].max() - w[:, [0, 2]].min())
    # constrained layout: the colorbar shares the panels' space (tight layout cannot place it)
    fig = Figure(figsize=(4.6 * n + 0.9, 4.6 * min(1.25, max(0.55, aspect)) + 1.0), layout="constrained", dpi=DPI)
    axes = fig.subplots(1, n, squeeze=False)[0]
    sc = None
    for ax, (method, title, pos) in zip(axes, panels):
        if len(pos):
            order = np.arange(len(pos))
            sc = ax.scatter(pos[:, 0], pos[:, 1], c=order / max(1, len(pos) - 1), cmap="viridis", s=2.0,
                            alpha=0.35, linewidths=0, rasterized=True, zorder=2, vmin=0, vmax=1)
        _draw_maze(ax, maze)
        ax.set_title(title, fontsize=9.5)
    axes[0].legend(loc="upper right", fontsize=8, framealpha=0.9)
    if sc is not None:
        cb = fig.colorbar(sc, ax=list(axes), fraction=0.03, pad=0.02)
        cb.set_label("when evaluated (fraction of the run)")
        cb.solids.set_alpha(1)
    fig.suptitle(f"{maze['name']} maze: final position of every individual evaluated", fontsize=11)
    return _save(fig, path)


def plot_success(curves: Mapping[str, Sequence[int | None]], budget: int, path: Path, maze_name: str) -> Path:
    """Fraction of runs solved (y) within x evaluations, one step line per method."""
    fig = _figure(6.4, 4.2)
    ax = fig.subplots()
    for method, ev in curves.items():
        c, ls = _style(method)
        solved = np.sort([e for e in ev if e is not None])
        xs = np.concatenate([[0], solved, [budget]])
        ys = np.concatenate([[0], np.arange(1, len(solved) + 1), [len(solved)]]) / max(1, len(ev))
        ax.step(xs, ys, where="post", color=c, ls=ls, lw=2, label=f"{method} ({len(solved)}/{len(ev)})")
    ax.set_xlim(0, budget)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("fraction of runs solved")
    ax.set_title(f"{maze_name} maze: runs that reached the goal within x evaluations")
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize=9)
    return _save(fig, path)


def plot_network_size(histories: Mapping[str, Sequence[Sequence[Mapping[str, Any]]]], path: Path, maze_name: str) -> Path:
    """Population-mean live connections and hidden nodes per generation: mean over the runs still
    going (line) and their range (band)."""
    fig = _figure(11.0, 4.0)
    axes = fig.subplots(1, 2)
    for key, ax, label in (("connections_mean", axes[0], "live connections (population mean)"),
                           ("hidden_mean", axes[1], "hidden nodes (population mean)")):
        for method, runs in histories.items():
            if not runs:
                continue
            c, ls = _style(method)
            length = max(len(h) for h in runs)
            m = np.full((len(runs), length), np.nan)
            for i, h in enumerate(runs):
                m[i, :len(h)] = [r[key] for r in h]
            gens = np.arange(length)
            with np.errstate(all="ignore"):
                ax.plot(gens, np.nanmean(m, 0), color=c, ls=ls, lw=2, label=method)
                ax.fill_between(gens, np.nanmin(m, 0), np.nanmax(m, 0), color=c, alpha=0.12, lw=0)
        ax.set_xlabel("generation")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="upper left")
    fig.suptitle(f"{maze_name} maze: network size over generations (line: mean over runs still going; band: range)",
                 fontsize=10.5)
    return _save(fig, path)


__all__ = ["plot_final_positions", "plot_network_size", "plot_success"]
