"""`sparsenet bench`: flags from BenchConfig; prints the tables and where they were written."""
from __future__ import annotations

import argparse

from ..registry import COMMANDS, Command, config_flags


setup = config_flags("sparsenet.experiments.bench.config", "BenchConfig")


def run(args: argparse.Namespace) -> None:
    from ...config import build_config
    from ...report.bench_report import format_tables
    from .config import BenchConfig
    from .run import run_bench

    cfg = build_config(BenchConfig, args)
    print(format_tables(run_bench(cfg)))
    print(f"wrote {cfg.out}/results.json and {cfg.out}/table.md")


COMMANDS.register("bench", Command("time sparse training kernels (layer and MLP steps) against dense PyTorch "
                                   "and other sparse libraries", setup, run))
