"""`sparsenet lottery`: flags from LotteryConfig; runs the levels, writes the report, prints each level."""
from __future__ import annotations

import argparse

from ..registry import COMMANDS, EXPERIMENTS, Command, config_flags


setup = config_flags("sparsenet.experiments.lottery.config", "LotteryConfig")


def run(args: argparse.Namespace) -> int:
    from ...config import build_config
    from ...report import write_report
    from ...report.stats import format_mean_std
    from .run import resolve_run_dir, run_lottery
    from ...train.health import print_warnings
    from .config import LotteryConfig

    cfg = build_config(LotteryConfig, args)
    r = run_lottery(cfg)
    run_dir = resolve_run_dir(cfg)
    files = write_report(run_dir) if cfg.report else []
    for lv in r["summary"]["levels"]:
        parts = [f"{k} {format_mean_std(v['test_accuracy'], 100.0)}" for k, v in lv["kinds"].items()]
        print(f"level {lv['level']:>2}  {100 * lv['density']:6.2f}% remaining  " + "  ".join(parts))
    for c in r["summary"]["claims"]:
        print(f"[{'ok' if c['holds'] else 'NO'}] {c['claim']}: {c['detail']}")
    print(f"-> {run_dir} ({len(files)} report files)")
    print_warnings(r)
    return 0



COMMANDS.register("lottery", Command("lottery tickets: IMP with rewinding (resumable levels), controls, "
                                     "supermasks, early-bird, edge-popup, sparse double descent", setup, run))


def experiment():
    """(config class, run, run directory of a config) for `sparsenet sweep`, imported when used."""
    from .config import LotteryConfig
    from .run import resolve_run_dir, run_lottery

    return LotteryConfig, run_lottery, resolve_run_dir


EXPERIMENTS.register("lottery", experiment)

__all__ = ["run", "setup"]
