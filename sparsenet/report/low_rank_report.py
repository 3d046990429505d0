"""Report of `sparsenet reproduce low-rank`, from results.json only: report.md (accuracy mean ± std
per dictionary x fraction predicted, the dense row, the paper's claim checked from the numbers) and
accuracy_vs_fraction.png (test accuracy vs fraction predicted, one line per dictionary, ± std bars,
dense as a horizontal line with its ± std band).

The claim "predicting >= 75% of the first layer's parameters costs little accuracy" is read as:
at fraction 0.75 (else the smallest fraction run above it) the best dictionary's mean accuracy is
within TOLERANCE = 1 point of dense's mean. `summarize` and `check_claim` recompute from the trials,
so `sparsenet report DIR` after hand-editing a trial shows the edited numbers.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from . import REPORTS
from ..io import write_text
from .markdown import _table, machine_line
from .plots import _figure, _save
from .stats import format_mean_std

TOLERANCE = 0.01  # "little": within 1 point of accuracy of dense
CLAIM_FRACTION = 0.75
CLAIM = ("predicting ≥ 75% of the first layer's parameters costs little accuracy: the best dictionary at "
         "75% is within 1 point of dense")
_STYLE = {"se": ("tab:red", "o", "-"), "gaussian": ("tab:green", "^", ":"), "dct": ("tab:purple", "D", "-."),
          "pca": ("tab:orange", "s", "--")}


def summarize(trials: Sequence[Mapping[str, Any]]) -> list[dict]:
    """One row per (dictionary, fraction), in trial order: rank, achieved fraction, test accuracy
    mean, sample std (ddof 1; 0 with one seed) and seed count. Dense has fraction None."""
    groups: dict[tuple, list] = {}
    for t in trials:
        groups.setdefault((t["dictionary"], t["fraction"]), []).append(t)
    rows = []
    for (d, f), ts in groups.items():
        acc = [t["test_accuracy"] for t in ts]
        mean = sum(acc) / len(acc)
        std = math.sqrt(sum((a - mean) ** 2 for a in acc) / (len(acc) - 1)) if len(acc) > 1 else 0.0
        rows.append({"dictionary": d, "fraction": f, "rank": ts[0]["rank"],
                     "fraction_predicted": ts[0]["fraction_predicted"],
                     "first_layer_learned_weights": ts[0]["first_layer_learned_weights"], "shape": ts[0]["shape"],
                     "mean": mean, "std": std, "n": len(acc), "seeds": [t["seed"] for t in ts],
                     "diverged": sum(1 for t in ts if t.get("diverged"))})
    return rows


def check_claim(summary: Sequence[Mapping[str, Any]]) -> dict:
    """Best dictionary's mean at the claim's fraction vs dense's mean (passed: gap >= -TOLERANCE)."""
    dense = next((r for r in summary if r["dictionary"] == "dense"), None)
    fracs = sorted({r["fraction"] for r in summary if r["dictionary"] != "dense" and r["fraction"] >= CLAIM_FRACTION})
    base = {"statement": CLAIM, "tolerance": TOLERANCE, "passed": False, "fraction": None, "best": None,
            "gap": None, "dense_mean": None if dense is None else dense["mean"]}
    if dense is None or not fracs:
        return {**base, "reason": "no dense run" if dense is None else "no fraction >= 0.75 was run"}
    at = [r for r in summary if r["dictionary"] != "dense" and r["fraction"] == fracs[0]]
    best = max(at, key=lambda r: r["mean"])
    gap = best["mean"] - dense["mean"]
    return {**base, "passed": gap >= -TOLERANCE, "fraction": fracs[0], "best": best["dictionary"], "gap": gap,
            "best_mean": best["mean"], "reason": None}


def _dictionaries(summary) -> list[str]:
    seen = []
    for r in summary:
        if r["dictionary"] != "dense" and r["dictionary"] not in seen:
            seen.append(r["dictionary"])
    return seen


def plot_accuracy_vs_fraction(summary: Sequence[Mapping[str, Any]], path: Path, dataset: str) -> Path:
    fig = _figure(7.0, 4.6)
    ax = fig.add_subplot(1, 1, 1)
    fracs = sorted({r["fraction"] for r in summary if r["dictionary"] != "dense"})
    dense = next((r for r in summary if r["dictionary"] == "dense"), None)
    if dense is not None:
        m, s = 100 * dense["mean"], 100 * dense["std"]
        ax.axhline(m, color="0.25", linestyle="-", linewidth=2.0, alpha=0.7, label="dense", zorder=1)
        if s > 0:
            ax.axhspan(m - s, m + s, color="k", alpha=0.08, linewidth=0, zorder=0)
    for d in _dictionaries(summary):
        rows = sorted((r for r in summary if r["dictionary"] == d), key=lambda r: r["fraction"])
        color, marker, ls = _STYLE.get(d, ("tab:gray", "o", "-"))
        ax.errorbar([100 * r["fraction_predicted"] for r in rows], [100 * r["mean"] for r in rows],
                    yerr=[100 * r["std"] for r in rows], label=d, color=color, marker=marker, linestyle=ls,
                    capsize=3, markersize=5)
    if fracs:
        ax.set_xticks([100 * f for f in fracs], labels=[f"{100 * f:g}%" for f in fracs])
        span = 100 * (fracs[-1] - fracs[0]) or 10.0
        ax.set_xlim(100 * fracs[0] - 0.06 * span, 100 * fracs[-1] + 0.06 * span)
    ax.minorticks_off()
    ax.set(title=f"{dataset}: accuracy vs first-layer weights predicted",
           xlabel="fraction of the first layer's weights predicted", ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    return _save(fig, path)


def _table_md(summary: Sequence[Mapping[str, Any]]) -> str:
    order = {d: i for i, d in enumerate(["dense", *_dictionaries(summary)])}
    rows = []
    for r in sorted(summary, key=lambda r: (order[r["dictionary"]], r["fraction"] or 0.0)):
        dense = r["dictionary"] == "dense"
        rows.append([r["dictionary"], "—" if dense else f"{100 * r['fraction']:g}%",
                     "0%" if dense else f"{100 * r['fraction_predicted']:.2f}%", "—" if dense else str(r["rank"]),
                     f"{r['first_layer_learned_weights']:,}", format_mean_std(r, 100, ".2f") + " %",
                     str(r["n"]) + (f" ({r['diverged']} diverged)" if r.get("diverged") else "")])
    return _table(["first layer", "fraction asked", "fraction predicted", "rank", "learned weights (layer 1)",
                   "test accuracy", "seeds"], rows, align="lrrrrrr")


def _claim_md(claim: Mapping[str, Any]) -> list[str]:
    box = "x" if claim["passed"] else " "
    head = f"- [{box}] **{'PASS' if claim['passed'] else 'FAIL'}**: {claim['statement']}"
    if claim.get("reason"):
        return [head, f"  (not measured: {claim['reason']})"]
    return [head, f"  (at {100 * claim['fraction']:g}%: best dictionary {claim['best']} "
                  f"{100 * claim['best_mean']:.2f}% vs dense {100 * claim['dense_mean']:.2f}%, "
                  f"{100 * claim['gap']:+.2f} points of mean accuracy; \"little\" = within "
                  f"{100 * claim['tolerance']:g} point)"]


@REPORTS.register("low-rank")
def write_low_rank_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    run_dir = Path(run_dir)
    summary = summarize(results.get("trials", []))
    claim = check_claim(summary)
    s = results.get("settings", {})
    written = [plot_accuracy_vs_fraction(summary, run_dir / "accuracy_vs_fraction.png", results.get("dataset", "?"))]
    lines = ["# Predicting parameters: accuracy vs fraction of the first layer predicted", "",
             "Denil et al., \"Predicting Parameters in Deep Learning\", NeurIPS 2013 (arXiv:1306.0543).", "",
             machine_line(results.get("machine")),
             f"Command: `{results.get('command', '?')}`", "",
             f"{results.get('dataset')}: {results.get('train_samples')} training, {results.get('test_samples')} test "
             f"samples{' (quick run)' if results.get('quick') else ''}. Every net: ReLU MLP "
             f"{summary[0]['shape'] if summary else '?'}, SGD lr {s.get('lr')} momentum {s.get('momentum')}, batch "
             f"{s.get('batch_size')}, {s.get('epochs')} epoch(s) (the same steps for all), seeds "
             f"{', '.join(map(str, results.get('seeds', [])))}. First layer: LowRankLinear W^T = U V, U a fixed "
             f"dictionary over input shape {tuple(results.get('input_shape', []))} (se: squared-exponential kernel "
             f"ridge regression from spread anchors; gaussian; dct; pca of {results.get('pca_samples')} training "
             "inputs), only V learned, so fraction predicted = 1 − rank / in_features and rank = max(1, round((1 − "
             "fraction) · in_features)). The second layer and all biases are dense. Accuracy: mean ± sample std "
             "over seeds.", "",
             _table_md(summary), "", "## Claim", "", *_claim_md(claim), "",
             "![accuracy vs fraction predicted](accuracy_vs_fraction.png)", ""]
    written.append(write_text(run_dir / "report.md", "\n".join(lines)))
    return written


__all__ = ["CLAIM", "TOLERANCE", "check_claim", "summarize", "write_low_rank_report"]
