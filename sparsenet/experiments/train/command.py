"""`sparsenet train`: flags from TrainConfig; trains, writes the report, prints one summary line."""
from __future__ import annotations

import argparse

from ..registry import COMMANDS, EXPERIMENTS, Command, config_flags


setup = config_flags("sparsenet.experiments.train.config", "TrainConfig")


def run(args: argparse.Namespace) -> None:
    from ...config import build_config
    from ...report import write_report
    from ...train.health import print_warnings
    from .config import TrainConfig
    from .run import resolve_run_dir, run_train

    cfg = build_config(TrainConfig, args)
    r = run_train(cfg)
    run_dir = resolve_run_dir(cfg)
    files = write_report(run_dir)
    segments = r.get("segments", [])
    resumed = f" in {len(segments)} segments" if len(segments) > 1 else ""
    print(f"test accuracy {r['test_accuracy']:.4f}  live weights {r['live_weights']}/{r['total_weights']}  "
          f"train {r['train_seconds']:.2f}s{resumed}  -> {run_dir} ({len(files)} report files)")
    print_warnings(r)


COMMANDS.register("train", Command("train a model: optional dense burn-in, pruning, then sparse training",
                                   setup, run))


def experiment():
    """(config class, run, run directory of a config) for `sparsenet sweep`, imported when used."""
    from .config import TrainConfig
    from .run import resolve_run_dir, run_train

    return TrainConfig, run_train, resolve_run_dir


EXPERIMENTS.register("train", experiment)
