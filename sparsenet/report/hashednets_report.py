"""Report of `sparsenet reproduce hashednets`, from results.json only: report.md (accuracy mean ± std
per compression x contender with stored counts, the paper's claim checked from the numbers) and
accuracy_vs_storage.png (test accuracy vs stored weights, log x, one line per contender, ± std bars).

`summarize` and `check_claim` live here (the run stores their output; the report recomputes both
from the trials, so `sparsenet report DIR` after hand-editing a trial shows the edited numbers).
"""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping, Sequence

from . import REPORTS
from ..io import write_text
from .markdown import _table, machine_line
from .plots import _figure, _save
from .stats import format_mean_std
from .ticks import plain_number

CONTENDER_LABELS = {"hashed": "hashed", "dense": "dense, equal storage", "sparse": "random sparse"}
_STYLE = {"hashed": ("tab:red", "o", "-"), "dense": ("tab:blue", "s", "--"), "sparse": ("tab:green", "^", ":")}
CLAIM = "hashed beats equal-storage dense at every compression and the gap grows with compression"


def compression_text(c: float) -> str:
    """1/8 for 0.125; a compression that is no simple fraction as a decimal."""
    f = Fraction(c).limit_denominator(10_000)
    if abs(float(f) - c) < 1e-12 and f.numerator == 1:
        return f"1/{f.denominator}"
    return f"{c:g}"


def summarize(trials: Sequence[Mapping[str, Any]]) -> list[dict]:
    """One row per (compression, contender), in trial order: storage and test accuracy mean, sample
    std (ddof 1; 0 with one seed) and seed count."""
    groups: dict[tuple, list] = {}
    for t in trials:
        groups.setdefault((t["compression"], t["contender"]), []).append(t)
    rows = []
    for (c, k), ts in groups.items():
        acc = [t["test_accuracy"] for t in ts]
        mean = sum(acc) / len(acc)
        std = math.sqrt(sum((a - mean) ** 2 for a in acc) / (len(acc) - 1)) if len(acc) > 1 else 0.0
        rows.append({"compression": c, "contender": k, "shape": ts[0]["shape"], "stored_weights": ts[0]["stored_weights"],
                     "biases": ts[0]["biases"], "mean": mean, "std": std, "n": len(acc),
                     "seeds": [t["seed"] for t in ts], "diverged": sum(1 for t in ts if t.get("diverged"))})
    return rows


def check_claim(summary: Sequence[Mapping[str, Any]]) -> dict:
    """The paper's claim on the mean accuracies: gap(c) = hashed − dense > 0 at every compression, and
    the gap strictly larger at each stronger compression (smaller c) than at the next weaker one."""
    mean = {(r["compression"], r["contender"]): r["mean"] for r in summary}
    cs = sorted({c for c, k in mean if (c, "hashed") in mean and (c, "dense") in mean}, reverse=True)
    gaps = [mean[(c, "hashed")] - mean[(c, "dense")] for c in cs]
    beats = bool(cs) and all(g > 0 for g in gaps)
    grows = len(cs) >= 2 and all(b > a for a, b in zip(gaps, gaps[1:]))
    return {"statement": CLAIM, "passed": beats and grows, "hashed_beats_dense": beats, "gap_grows": grows,
            "gaps": [{"compression": c, "gap": g} for c, g in zip(cs, gaps)]}


def plot_accuracy_vs_storage(summary: Sequence[Mapping[str, Any]], path: Path, dataset: str) -> Path:
    fig = _figure(7.0, 4.6)
    ax = fig.add_subplot(1, 1, 1)
    order = [k for k in CONTENDER_LABELS if any(r["contender"] == k for r in summary)]
    for k in order:
        rows = sorted((r for r in summary if r["contender"] == k), key=lambda r: r["stored_weights"])
        color, marker, ls = _STYLE.get(k, ("k", "o", "-"))
        ax.errorbar([r["stored_weights"] for r in rows], [100 * r["mean"] for r in rows],
                    yerr=[100 * r["std"] for r in rows], label=CONTENDER_LABELS.get(k, k), color=color, marker=marker,
                    linestyle=ls, capsize=3, markersize=5)
    hashed = sorted({(r["stored_weights"], r["compression"]) for r in summary if r["contender"] != "dense"})
    ax.set_xscale("log", base=2)
    ax.set_xticks([s for s, _ in hashed], labels=[f"{plain_number(s)}\n({compression_text(c)})" for s, c in hashed])
    ax.minorticks_off()
    if hashed:
        ax.set_xlim(hashed[0][0] / 1.35, hashed[-1][0] * 1.35)
    ax.set(title=f"{dataset}: test accuracy at equal storage", xlabel="stored weights (compression), log scale",
           ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    return _save(fig, path)


def _table_md(summary: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for r in sorted(summary, key=lambda r: (-r["compression"], list(CONTENDER_LABELS).index(r["contender"])
                                            if r["contender"] in CONTENDER_LABELS else 9)):
        rows.append([compression_text(r["compression"]), CONTENDER_LABELS.get(r["contender"], r["contender"]), r["shape"],
                     f"{r['stored_weights']:,}", f"{r['biases']:,}", format_mean_std(r, 100, ".2f") + " %",
                     str(r["n"]) + (f" ({r['diverged']} diverged)" if r.get("diverged") else "")])
    return _table(["compression", "contender", "net", "stored weights", "biases", "test accuracy", "seeds"], rows,
                  align="lllrrrr")


def _claim_md(claim: Mapping[str, Any]) -> list[str]:
    box = "x" if claim["passed"] else " "
    gaps = ", ".join(f"{compression_text(g['compression'])}: {100 * g['gap']:+.2f}" for g in claim["gaps"]) or "none"
    return [f"- [{box}] **{'PASS' if claim['passed'] else 'FAIL'}**: {claim['statement']}",
            f"  (hashed beats dense at every compression: {'yes' if claim['hashed_beats_dense'] else 'no'}; "
            f"gap grows as c shrinks: {'yes' if claim['gap_grows'] else 'no'}; "
            f"hashed − dense, points of mean accuracy: {gaps})"]


@REPORTS.register("hashednets")
def write_hashednets_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    run_dir = Path(run_dir)
    summary = summarize(results.get("trials", []))
    claim = check_claim(summary)
    s = results.get("settings", {})
    written = [plot_accuracy_vs_storage(summary, run_dir / "accuracy_vs_storage.png", results.get("dataset", "?"))]
    lines = ["# HashedNets: accuracy at equal storage", "",
             "Chen et al., \"Compressing Neural Networks with the Hashing Trick\", ICML 2015 (arXiv:1504.04788).", "",
             machine_line(results.get("machine")),
             f"Command: `{results.get('command', '?')}`", "",
             f"{results.get('dataset')}: {results.get('train_samples')} training, {results.get('test_samples')} test "
             f"samples{' (quick run)' if results.get('quick') else ''}. Every contender: ReLU MLP, dense biases, SGD "
             f"lr {s.get('lr')} momentum {s.get('momentum')}, batch {s.get('batch_size')}, {s.get('epochs')} epoch(s) "
             f"(the same steps for all), seeds {', '.join(map(str, results.get('seeds', [])))}. Hashed: both layers "
             f"HashedLinear with K = round(c·out·in) buckets; dense: the widest hidden layer whose weights fit in the "
             "hashed net's storage; random sparse: SparseLinear with exactly the hashed layers' counts of random "
             "connections. Accuracy: mean ± sample std over seeds.", "",
             _table_md(summary), "", "## Claim", "", *_claim_md(claim), "",
             "![accuracy vs stored weights](accuracy_vs_storage.png)", ""]
    written.append(write_text(run_dir / "report.md", "\n".join(lines)))
    return written


__all__ = ["CLAIM", "check_claim", "compression_text", "summarize", "write_hashednets_report"]
