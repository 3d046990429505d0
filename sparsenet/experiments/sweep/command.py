"""`sparsenet sweep --config SWEEP.toml`: runs every trial of a sweep file, prints one line per grid point."""
from __future__ import annotations

import argparse

from ..registry import COMMANDS, Command


def setup(parser: argparse.ArgumentParser) -> None:
    from ...config import add_arguments
    from .config import SweepConfig

    add_arguments(parser, SweepConfig)
    for action in parser._actions:  # the sweep file is required: it holds what is swept
        if action.dest == "config":
            action.required = True
            action.help = "the sweep file: [sweep] settings, [base] keys, [grid] / [[points]] / [random] (docs/sweeps.md)"


def run(args: argparse.Namespace) -> int:
    from ...report.sweep_aggregate import aggregate
    from .run import run_sweep, sweep_dir
    from .spec import load_sweep

    cfg, spec = load_sweep(args.config, args)
    results = run_sweep(cfg, spec)
    where = sweep_dir(cfg, spec)
    s = results["summary"]
    agg = aggregate(where)
    for line in summary_lines(agg):
        print(line)
    for r in results["trials"]:
        if r["status"] != "done":
            print(f"FAILED {r['id']} {r['point']} after {r['attempts']} attempt(s): {r['error']}")
    print(f"{s['done']}/{s['trials']} trials done, {s['failed']} failed -> {where} (report.md, aggregate.json)")
    return 0 if s["failed"] == 0 else 1


def _cell(m: dict, scale: float = 1.0) -> str:
    sd = f" ± {scale * m['std']:.2f}" if m.get("std") is not None else ""
    return f"{scale * m['mean']:.2f}{sd}"


def summary_lines(agg: dict) -> list[str]:
    """One line per curve (accuracy at each % of weights remaining), else one per grid point."""
    curves = [c for c in agg["curves"] if c["metric"] == "test_accuracy"]
    if curves:
        return [f"{c['label']:>24}  " + "  ".join(f"{p['remaining']:.3g}%: {_cell(p, 100.0)}" for p in c["points"])
                for c in curves]
    out = []
    for g in agg["groups"]:
        point = ", ".join(f"{k}={v}" for k, v in g["point"].items()) or "all trials"
        shown = [f"{k} {_cell(m)}" for k, m in g["metrics"].items() if "accuracy" in k][:4]
        out.append(f"{point} (n={g['n']}): " + ("  ".join(shown) or f"{len(g['metrics'])} metrics"))
    return out


COMMANDS.register("sweep", Command("run an experiment over a grid of its config keys (seeds, sparsities, "
                                   "methods): trials in parallel on this machine or on a Ray cluster, "
                                   "resumable, with an aggregate report", setup, run))
