"""`sparsenet dst`: flags from DstConfig; runs every (method, seed) trial, writes the report, prints
one line per method."""
from __future__ import annotations

import argparse

from ..registry import COMMANDS, EXPERIMENTS, Command, config_flags

setup = config_flags("sparsenet.experiments.dst.config", "DstConfig")


def run(args: argparse.Namespace) -> None:
    import statistics

    from ...config import build_config
    from ...report import write_report
    from ...train.health import print_warnings
    from .config import DstConfig
    from .run import resolve_run_dir, run_dst

    cfg = build_config(DstConfig, args)
    r = run_dst(cfg)
    run_dir = resolve_run_dir(cfg)
    files = write_report(run_dir)
    for m in r["methods"]:
        acc = [t["test_accuracy"] for t in r["trials"] if t["method"] == m]
        sd = f" ± {100 * statistics.stdev(acc):.2f}" if len(acc) > 1 else ""
        upd = sum(t["seconds"]["pattern_updates"] for t in r["trials"] if t["method"] == m)
        loop = sum(t["seconds"]["loop"] for t in r["trials"] if t["method"] == m)
        print(f"{m:>12}  test accuracy {100 * statistics.fmean(acc):.2f}%{sd}  (n={len(acc)})  "
              f"pattern updates {upd:.2f} s of {loop:.1f} s")
    for d in r.get("dense_layers", []):
        print(f"note: {d['note']}")
    print(f"-> {run_dir} ({len(files)} report files)")
    print_warnings(r)


COMMANDS.register("dst", Command("dynamic sparse training on the sparse kernels: static, SET, RigL, SNFS and "
                                 "grow-then-prune, methods x seeds, resumable, with a report", setup, run))


def experiment():
    """(config class, run, run directory of a config) for `sparsenet sweep`, imported when used."""
    from .config import DstConfig
    from .run import resolve_run_dir, run_dst

    return DstConfig, run_dst, resolve_run_dir


EXPERIMENTS.register("dst", experiment)
