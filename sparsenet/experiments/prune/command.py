"""`sparsenet prune`: flags from PruneConfig; prunes (and retrains), writes the report, prints each point."""
from __future__ import annotations

import argparse

from ..registry import COMMANDS, EXPERIMENTS, Command, config_flags


setup = config_flags("sparsenet.experiments.prune.config", "PruneConfig")


def run(args: argparse.Namespace) -> None:
    import shutil
    from pathlib import Path

    from ...config import build_config
    from ...report import write_report
    from ...train.health import print_warnings
    from .config import PruneConfig
    from .run import resolve_run_dir, run_prune

    cfg = build_config(PruneConfig, args)
    r = run_prune(cfg)
    run_dir = resolve_run_dir(cfg)
    figures = write_report(run_dir)
    if cfg.figure:
        Path(cfg.figure).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run_dir / "accuracy_vs_sparsity.png", cfg.figure)
    print(f"dense accuracy {r['dense']['accuracy']:.4f}")
    for p in sorted(r["points"], key=lambda p: (p["criterion"], p["sparsity"])):
        warn = "  COLLAPSE: " + "; ".join(p["collapse"]) if p["collapse"] else ""
        print(f"{p['criterion']:>16}  sparsity {p['sparsity']:.4f}  accuracy {p['accuracy']:.4f}{warn}")
    print(f"-> {run_dir} ({len(figures)} report files)")
    print_warnings(r)


COMMANDS.register("prune", Command("prune a trained (or initial) model: criteria x sparsities x allocation x "
                                   "structure x schedule, optional retraining; several = a comparison figure",
                                   setup, run))


def experiment():
    """(config class, run, run directory of a config) for `sparsenet sweep`, imported when used."""
    from .config import PruneConfig
    from .run import resolve_run_dir, run_prune

    return PruneConfig, run_prune, resolve_run_dir


EXPERIMENTS.register("prune", experiment)
