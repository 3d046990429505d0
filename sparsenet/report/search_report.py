"""Report of `sparsenet search`, from the run directory's files only: report.md (success rate and
evaluations to solve per method next to the paper's numbers, the claim checked, network sizes) and
the figures final_positions.png, success.png, network_size.png.

The claim (Lehman & Stanley 2011, hard maze): novelty search solves it in far more runs than
objective-based search. Read as: novelty's success rate is at least twice objective's and the
difference is significant (one-sided Fisher exact test, p < 0.01).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import REPORTS
from ..io import write_text
from .markdown import _table, machine_line

ALPHA = 0.01
CLAIM = ("novelty search solves the hard maze in far more runs than objective-based search (success rate at "
         "least twice as high, one-sided Fisher exact p < 0.01)")
# The paper's maze results: Lehman & Stanley, "Abandoning Objectives", Evolutionary Computation 19(2), 2011,
# maze navigation results (40 runs per method, NEAT with population 250; fitness-based NEAT is our objective).
# The paper's own text could not be read here: the counts are as its results are quoted in a public
# presentation of the paper (github.com/cmilhaupt/unm-cs523-paper-presentation, presentation.md).
PAPER = {
    "hard": {"novelty": "39/40 runs solved", "objective": "3/40 runs solved"},
    "medium": {"novelty": "≈ 18,000 evaluations to solve (mean)", "objective": "≈ 56,000 evaluations (3× slower)"},
}
PAPER_SOURCE = ("Lehman & Stanley, Evolutionary Computation 19(2), 2011, maze navigation results (40 runs per "
                "method, NEAT, population 250; counts as quoted in a public presentation of the paper, see docs/search.md)")


def fisher_greater(a_solved: int, a_runs: int, b_solved: int, b_runs: int) -> float:
    """One-sided Fisher exact p-value that A's success rate exceeds B's: P(X >= a_solved) for X
    hypergeometric with the margins of the 2x2 table."""
    total, solved = a_runs + b_runs, a_solved + b_solved
    denom = math.comb(total, a_runs)
    hi = min(a_runs, solved)
    return sum(math.comb(solved, x) * math.comb(total - solved, a_runs - x) for x in range(a_solved, hi + 1)) / denom


def check_claim(summary: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    if "novelty" not in summary or "objective" not in summary:
        return "n/a", "needs both the novelty and the objective method"
    n, o = summary["novelty"], summary["objective"]
    p = fisher_greater(n["solved"], n["runs"], o["solved"], o["runs"])
    ok = n["success_rate"] >= 2 * o["success_rate"] and n["solved"] > o["solved"] and p < ALPHA
    return ("PASS" if ok else "FAIL",
            f"novelty {n['solved']}/{n['runs']} vs objective {o['solved']}/{o['runs']}, p = {p:.2g}")


def _ev(x) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _paper_cell(maze_key: str, method: str) -> str:
    return PAPER.get(maze_key, {}).get(method, "–")


CELL = 10.0  # maze units: the grid on which behaviour coverage is counted


def coverage(positions: np.ndarray, maze: Mapping[str, Any]) -> tuple[int, int]:
    """(cells reached, cells in the walls' box) on a CELL x CELL grid: how much of the maze a run's
    final positions cover."""
    w = np.asarray(maze["walls"], float)
    x0, y0 = w[:, [0, 2]].min(), w[:, [1, 3]].min()
    nx = int(np.ceil((w[:, [0, 2]].max() - x0) / CELL))
    ny = int(np.ceil((w[:, [1, 3]].max() - y0) / CELL))
    if len(positions) == 0:
        return 0, nx * ny
    ix = np.clip(((positions[:, 0] - x0) // CELL).astype(int), 0, nx - 1)
    iy = np.clip(((positions[:, 1] - y0) // CELL).astype(int), 0, ny - 1)
    return len(np.unique(ix * ny + iy)), nx * ny


def _history(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


@REPORTS.register("search")
def write_search_report(run_dir: Path, results: Mapping[str, Any]) -> list[Path]:
    from .search_plots import plot_final_positions, plot_network_size, plot_success

    run_dir = Path(run_dir)
    maze, summary, runs = results["maze"], results["summary"], results["runs"]
    name = Path(maze["name"]).stem
    methods = list(summary)
    seeds = results["seeds"]
    budget = next(iter(summary.values()))["budget"]
    files: list[Path] = []

    panels, notes = [], []
    for m in methods:
        pos_file = run_dir / "runs" / f"{m}-s{seeds[0]}" / "positions.npy"
        r = next((r for r in runs[m] if r["seed"] == seeds[0]), None)
        if not pos_file.is_file() or r is None:
            notes.append(f"{pos_file} is missing: no final-position panel for {m}")
            continue
        what = (f"solved at {r['evaluations_to_solve']:,} evaluations" if r["solved"]
                else f"not solved in {r['evaluations']:,}")
        panels.append((m, f"{m} (run s{seeds[0]}): {what}", np.load(pos_file)))
    if panels:
        files.append(plot_final_positions(maze, panels, run_dir / "final_positions.png"))
    files.append(plot_success({m: [r["evaluations_to_solve"] for r in runs[m]] for m in methods}, budget,
                              run_dir / "success.png", name))
    hist = {m: [h for h in (_history(run_dir / "runs" / f"{m}-s{r['seed']}" / "history.jsonl") for r in runs[m]) if h]
            for m in methods}
    files.append(plot_network_size(hist, run_dir / "network_size.png", name))

    cover_rows = []
    for m in methods:
        got = []
        for r in runs[m]:
            f = run_dir / "runs" / f"{m}-s{r['seed']}" / "positions.npy"
            if f.is_file():
                got.append(coverage(np.load(f), maze))
        if got:
            frac = [a / b for a, b in got]
            cover_rows.append([m, f"{np.mean([a for a, _ in got]):.0f} of {got[0][1]}",
                               f"{100 * np.mean(frac):.0f}% ({100 * min(frac):.0f}–{100 * max(frac):.0f}%)", str(len(got))])

    s0 = results["settings"]
    rows = []
    for m in methods:
        s = summary[m]
        sd = f" ± {s['sd_evaluations']:,.0f}" if s["sd_evaluations"] is not None else ""
        rows.append([m, f"{results['methods'][m]['objective_weight']:g}", f"{s['solved']}/{s['runs']}",
                     f"{100 * s['success_rate']:.0f}%", _ev(s["mean_evaluations"]) + sd, _ev(s["median_evaluations"]),
                     f"{s['best_distance_mean']:.1f}", _paper_cell(results.get("maze_key", ""), m)])
    size_rows = []
    for m in methods:
        s = summary[m]
        wc, wh = s["winner_connections"], s["winner_hidden"]
        last = [h[-1] for h in hist[m]]
        size_rows.append([m, f"{np.mean([r['connections_mean'] for r in last]):.1f}" if last else "–",
                          f"{np.mean([r['hidden_mean'] for r in last]):.2f}" if last else "–",
                          f"{np.mean(wc):.1f} ({min(wc)}–{max(wc)})" if wc else "–",
                          f"{np.mean(wh):.1f} ({min(wh)}–{max(wh)})" if wh else "–", f"{s['seconds']:.0f}"])
    lines = [f"# Novelty search vs objective search: {name} maze", "",
             f"{len(seeds)} runs per method (seeds {seeds[0]}–{seeds[-1]}), each with a budget of {budget:,} "
             f"evaluations (population {s0['population']}, {budget // s0['population']} generations), "
             f"{s0['timesteps']} time steps per episode. A run stops at its first individual within 5 units of the goal. "
             f"Novelty: k = {s0['k']}, archive threshold ρ_min from {s0['archive_threshold']:g} "
             f"(adapted every {s0['archive_window']:,} evaluations), archive bound {s0['archive_size']:,}.", ""]
    if name == "hard":
        status, detail = check_claim(summary)
        lines += [f"**Claim**: {CLAIM}: **{status}** ({detail}).", ""]
    lines += ["## Success", "",
              _table(["method", "objective weight", "solved", "success rate", "evaluations to solve (mean ± sd)",
                      "median", "mean closest distance", "paper"], rows), "",
              *([f"Paper: {PAPER_SOURCE}. Its NEAT differs from ours in details (see docs/search.md): compare "
                 "success rates and the ordering of the methods, not evaluation counts one to one.", ""]
                if results.get("maze_key") in PAPER else []),
              "![runs solved](success.png)", "",
              "## Where the individuals ended", "",
              f"Final position of every individual evaluated in run s{seeds[0]} of each method (the behaviour novelty "
              "search rewards; colour: when in the run). Coverage over all runs: the "
              f"{CELL:g} x {CELL:g} cells of the maze's box holding at least one final position (a run that solves "
              "stops early, so its coverage is a lower bound).", "",
              "![final positions](final_positions.png)", "",
              _table(["method", "cells reached (mean over runs)", "share of the box (mean, range)", "runs"],
                     cover_rows), "",
              "## Network size", "",
              "Genomes start from the 22 input→output connections and no hidden node; mutations add and remove "
              "connections and split them with hidden nodes.", "",
              _table(["method", "live connections at the end (population mean)", "hidden nodes (mean)",
                      "winners' connections (mean, range)", "winners' hidden nodes",
                      "loop seconds (sum over runs)"],
                     size_rows), "",
              "![network size](network_size.png)", ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += [machine_line(results.get("machine")), "", f"Command: `{results.get('command', '')}`", ""]
    files.append(write_text(run_dir / "report.md", "\n".join(lines)))
    return files


__all__ = ["ALPHA", "CELL", "CLAIM", "PAPER", "coverage", "check_claim", "fisher_greater", "write_search_report"]
