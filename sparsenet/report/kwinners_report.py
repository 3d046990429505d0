"""Report of `sparsenet reproduce kwinners`, from results.json only: report.md (test accuracy clean and
at every noise level, mean ± std per model, the noise score, the paper's claim checked from the numbers)
and accuracy_vs_noise.png (accuracy vs noise level, one line per model, ± std bars).

`summarize` and `check_claim` live here (the run stores their output; the report recomputes both from
the trials, so `sparsenet report DIR` after hand-editing a trial shows the edited numbers).
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

MODEL_LABELS = {"dense": "dense ReLU", "sparse": "sparse weights + k-WTA"}
_STYLE = {"dense": ("tab:blue", "s", "--"), "sparse": ("tab:red", "o", "-")}
CLEAN_TOLERANCE = 0.015  # "similar clean accuracy": within 1.5 points
CLAIM = ("the sparse k-WTA net is more robust to noise (higher noise score) at similar clean accuracy "
         "(within 1.5 points)")


def _stat(values: Sequence[float]) -> dict:
    """mean, sample std (ddof 1; 0 with one value) and count."""
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return {"mean": mean, "std": std, "n": len(values)}


def summarize(trials: Sequence[Mapping[str, Any]]) -> list[dict]:
    """One row per model, in trial order: accuracy mean/std/n per noise level (keys as in the trials:
    "0" is clean) and the noise score's mean/std/n."""
    groups: dict[str, list] = {}
    for t in trials:
        groups.setdefault(t["model"], []).append(t)
    rows = []
    for model, ts in groups.items():
        levels = list(ts[0]["accuracy"])
        rows.append({"model": model, "stored_weights": ts[0]["stored_weights"], "seeds": [t["seed"] for t in ts],
                     "accuracy": {lv: _stat([t["accuracy"][lv] for t in ts]) for lv in levels},
                     "noise_score": _stat([t["noise_score"] for t in ts]),
                     "diverged": sum(1 for t in ts if t.get("diverged"))})
    return rows


def check_claim(summary: Sequence[Mapping[str, Any]]) -> dict:
    """On the means: noise score sparse > dense, and |clean accuracy sparse − dense| <= 1.5 points."""
    by = {r["model"]: r for r in summary}
    if "dense" not in by or "sparse" not in by:
        return {"statement": CLAIM, "passed": False, "more_robust": False, "similar_clean": False,
                "score_gap": None, "clean_gap": None}
    score_gap = by["sparse"]["noise_score"]["mean"] - by["dense"]["noise_score"]["mean"]
    clean_gap = by["sparse"]["accuracy"]["0"]["mean"] - by["dense"]["accuracy"]["0"]["mean"]
    robust, similar = score_gap > 0, abs(clean_gap) <= CLEAN_TOLERANCE + 1e-12
    return {"statement": CLAIM, "passed": robust and similar, "more_robust": robust, "similar_clean": similar,
            "score_gap": score_gap, "clean_gap": clean_gap}


def plot_accuracy_vs_noise(summary: Sequence[Mapping[str, Any]], path: Path, dataset: str) -> Path:
    fig = _figure(7.0, 4.6)
    ax = fig.add_subplot(1, 1, 1)
    for r in summary:
        levels = sorted(r["accuracy"], key=float)
        color, marker, ls = _STYLE.get(r["model"], ("k", "o", "-"))
        ax.errorbar([float(lv) for lv in levels], [100 * r["accuracy"][lv]["mean"] for lv in levels],
                    yerr=[100 * r["accuracy"][lv]["std"] for lv in levels], color=color, marker=marker, linestyle=ls,
                    capsize=3, markersize=5, label=f"{MODEL_LABELS.get(r['model'], r['model'])} "
                                                   f"(noise score {r['noise_score']['mean']:,.0f}"
                                                   + (f" ± {r['noise_score']['std']:,.0f})" if r['noise_score'].get('n', 1) > 1
                                                      else ")"))
    ax.set(title=f"{dataset}: test accuracy under additive Gaussian input noise",
           xlabel="noise std (fraction of the input range; 0 = clean)", ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    return _save(fig, path)


def _table_md(summary: Sequence[Mapping[str, Any]], test_samples: int) -> str:
    levels = sorted({lv for r in summary for lv in r["accuracy"]}, key=float)
    head = ["model", "stored weights"] + ["clean" if lv == "0" else f"noise {lv}" for lv in levels] + \
           [f"noise score (of {len(levels) * test_samples:,})", "seeds"]
    rows = []
    for r in summary:
        cells = [format_mean_std(r["accuracy"][lv], 100, ".2f") + " %" if lv in r["accuracy"] else "—" for lv in levels]
        rows.append([MODEL_LABELS.get(r["model"], r["model"]), f"{r['stored_weights']:,}", *cells,
                     format_mean_std(r["noise_score"], 1, ",.0f"),
                     str(r["noise_score"]["n"]) + (f" ({r['diverged']} diverged)" if r.get("diverged") else "")])
    return _table(head, rows, align="l" + "r" * (len(head) - 1))


def _claim_md(claim: Mapping[str, Any]) -> list[str]:
    box = "x" if claim["passed"] else " "
    lines = [f"- [{box}] **{'PASS' if claim['passed'] else 'FAIL'}**: {claim['statement']}"]
    if claim.get("score_gap") is not None:
        lines.append(f"  (noise score sparse − dense: {claim['score_gap']:+,.1f}, higher: "
                     f"{'yes' if claim['more_robust'] else 'no'}; clean accuracy sparse − dense: "
                     f"{100 * claim['clean_gap']:+.2f} points, within 1.5: {'yes' if claim['similar_clean'] else 'no'})")
    return lines


@REPORTS.register("kwinners")
def write_kwinners_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    run_dir = Path(run_dir)
    summary = summarize(results.get("trials", []))
    claim = check_claim(summary)
    s = results.get("settings", {})
    h = s.get("hidden")
    levels = ", ".join(f"{v:g}" for v in results.get("noise_levels", []))
    written = [plot_accuracy_vs_noise(summary, run_dir / "accuracy_vs_noise.png", results.get("dataset", "?"))]
    lines = ["# k-winners-take-all sparse nets: robustness to input noise", "",
             "Ahmad & Scheinkman, \"How Can We Be So Dense? The Benefits of Using Highly Sparse Representations\", "
             "2019 (arXiv:1903.11257).", "",
             machine_line(results.get("machine")),
             f"Command: `{results.get('command', '?')}`", "",
             f"{results.get('dataset')}: {results.get('train_samples')} training, {results.get('test_samples')} test "
             f"samples{' (quick run)' if results.get('quick') else ''}. Both nets in-{h}-{h}-classes, SGD lr "
             f"{s.get('lr')} momentum {s.get('momentum')}, batch {s.get('batch_size')}, {s.get('epochs')} epoch(s) "
             f"(the same steps and sample order for both), seeds {', '.join(map(str, results.get('seeds', [])))}. "
             f"Dense: nn.Linear + ReLU. Sparse: hidden layers SparseLinear.random at density {s.get('density')} "
             f"followed by KWinners (percent_on {s.get('percent_on')}, boost strength {s.get('boost_strength')} "
             f"× {s.get('boost_strength_factor')} per epoch, k-inference factor {s.get('k_inference_factor')}), dense "
             "output layer. Noise: x + s·(hi − lo)·N(0, 1) clipped to the training inputs' range [lo, hi] "
             f"([0, 1] for pixels), s in {levels}, noise seed {s.get('noise_seed')} (the same noisy images for every "
             "model and seed). Noise score: the number of correctly classified test samples summed over the clean "
             "test set and every noise level. Accuracy: mean ± sample std over seeds.", "",
             _table_md(summary, results.get("test_samples", 0)), "", "## Claim", "", *_claim_md(claim), "",
             "![accuracy vs noise level](accuracy_vs_noise.png)", ""]
    written.append(write_text(run_dir / "report.md", "\n".join(lines)))
    return written


__all__ = ["CLAIM", "check_claim", "summarize", "write_kwinners_report"]
