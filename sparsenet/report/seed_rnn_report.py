"""Report of `sparsenet reproduce seed-figure-rnn`, from results.json only: accuracy.png and speed.png
(the seed figure's two figures, `seed_plots`), report.md with the results table, where the time goes,
the time per training step, and the seed figure's claims for RNNs:

(a) sparse test accuracy within 2 points of dense at every width ≥ 64;
(b) dense / sparse training time ≥ 20× at the largest width (the whole run: burn-in, pruning and
    training after it, measured in the same run).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

from . import REPORTS
from ..io import write_text
from .claims import MIN_SPEEDUP, check_accuracy, check_speedup
from .markdown import _table, claim_line, fmt, machine_line, phase_rows, results_rows
from .seed_plots import plot_accuracy, plot_speed
from .seedtable import rows_table

RNN_ACC_MIN_WIDTH = 64


def _step_rows(rows: list[Mapping[str, Any]]) -> list[list[str]]:
    """width | dense ms/step | sparse ms/step | ratio, for the training after the burn-in."""
    by = {(r["width"], r["variant"]): r.get("ms_per_step") for r in rows}
    out = []
    for w in sorted({r["width"] for r in rows}):
        d, s = by.get((w, "dense")), by.get((w, "sparse"))
        ok = all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in (d, s))
        out.append([str(w), fmt(d), fmt(s), fmt(d / s, ".1f", "×") if ok else "—"])
    return out


@REPORTS.register("seed-figure-rnn")
def write_seed_rnn_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    run_dir = Path(run_dir)
    rows = [r for r in results.get("rows", []) if isinstance(r, dict)]
    table = rows_table(rows, source=str(run_dir / "results.json"))
    dataset = results.get("dataset", "?")
    seq = results.get("sequence") or {}
    s = results.get("settings") or {}
    what = f"Elman RNN on {dataset}, {seq.get('steps', '?')} steps of {seq.get('values_per_step', '?')}"
    written = [plot_accuracy(table, None, run_dir / "accuracy.png", title=f"test accuracy, {what}"),
               plot_speed(table, None, run_dir / "speed.png", ratio_line=MIN_SPEEDUP,
                          title="training time, whole run")]
    claims = [check_accuracy(table, "sparse", min_width=RNN_ACC_MIN_WIDTH), check_speedup(table, "sparse")]
    diverged = [f"width {r['width']} {r['variant']}: {r['diverged']}" for r in rows if r.get("diverged")]
    n_test = results.get("test_samples")
    lines = [
        f"# Seed figure for RNNs: dense vs sparse {what}", "",
        "Design doc 000's protocol carried to recurrent nets (its next step, \"do this with RNNs proper\"): an "
        "Elman RNN classifier (tanh, readout of the last state) per hidden width H; both variants start from the "
        f"same init and train {s.get('burnin_samples', '?'):,} samples dense ({s.get('optimizer', 'sgd')} lr "
        f"{s.get('lr')}" + (f", momentum {s.get('momentum')}" if s.get('optimizer') == 'sgd' else "") + f", batch {s.get('batch_size')}, gradient-norm clip {s.get('clip')}). The dense variant "
        f"goes on dense; the sparse one keeps the {s.get('input_budget', '?'):,} largest |w| of W_ih and the "
        f"{s.get('recurrent_budget', '?'):,} largest of W_hh (a smaller matrix stays whole), both as SparseLinear, "
        "readout dense. Then both train "
        f"{s.get('samples', '?'):,} more samples on the same sample stream (optimizer state restarted). Tested on "
        + (f"{n_test:,} test examples" if isinstance(n_test, int) else "the test split")
        + (" (--quick)." if results.get("quick") else "."), "",
        "Times are training seconds measured in this run (test evaluation excluded). A matrix no larger than "
        "its budget is kept whole: there the sparse variant prunes nothing and differs from dense only in its "
        "kernels.", "",
        machine_line(results.get("machine")), f"Command: `{results.get('command', '?')}`", "",
        "## Results", "",
        _table(["width", "dense acc (%)", "sparse acc (%)", "Δ points", "live weights dense / sparse", "dense s",
                "sparse s", "speed-up"], results_rows(table, "sparse"), "rrrrrrrr"), "",
        "## Where the time goes", "",
        "Seconds per phase of the sparse variant; live weights are W_ih + W_hh, then the readout's.", "",
        _table(["width", "live weights (W_ih + W_hh + readout)", "units with an input", "burn-in s", "prune s",
                "sparse training s", "whole run s"], phase_rows(table, "sparse"), "rrrrrrr"), "",
        "Milliseconds per training step after the burn-in (forward, backpropagation through time, SGD step):", "",
        _table(["width", "dense ms/step", "sparse ms/step", "dense / sparse"], _step_rows(rows), "rrrr"), "",
        "## Claims", "", *[claim_line(c) for c in claims], "",
        *([f"Diverged: {'; '.join(diverged)}.", ""] if diverged else []),
        "![test accuracy vs width](accuracy.png)", "", "![training time vs width](speed.png)", ""]
    written.append(write_text(run_dir / "report.md", "\n".join(lines)))
    return written


__all__ = ["RNN_ACC_MIN_WIDTH", "write_seed_rnn_report"]
