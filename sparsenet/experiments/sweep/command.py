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
    for g in agg["groups"]:
        point = ", ".join(f"{k}={v}" for k, v in g["point"].items()) or "(all trials)"
        print(f"{point}: {g['n']} trial(s)")
    for r in results["trials"]:
        if r["status"] != "done":
            print(f"FAILED {r['id']} {r['point']} after {r['attempts']} attempt(s): {r['error']}")
    print(f"{s['done']}/{s['trials']} trials done, {s['failed']} failed -> {where} (report.md, aggregate.json)")
    return 0 if s["failed"] == 0 else 1


COMMANDS.register("sweep", Command("run an experiment over a grid of its config keys (seeds, sparsities, "
                                   "methods): trials in parallel on this machine or on a Ray cluster, "
                                   "resumable, with an aggregate report", setup, run))
