"""`sparsenet search`: flags from SearchConfig; runs every (method, run), writes the report, prints
one line per run and one per method."""
from __future__ import annotations

import argparse

from ..registry import COMMANDS, EXPERIMENTS, Command, config_flags

setup = config_flags("sparsenet.experiments.search.config", "SearchConfig")


def run(args: argparse.Namespace) -> None:
    from ...config import build_config
    from ...report import write_report
    from .config import SearchConfig
    from .run import resolve_run_dir, run_search_experiment

    cfg = build_config(SearchConfig, args)
    r = run_search_experiment(cfg)
    run_dir = resolve_run_dir(cfg)
    files = write_report(run_dir)
    for m, s in r["summary"].items():
        ev = f", mean {s['mean_evaluations']:,.0f} evaluations to solve" if s["solved"] else ""
        print(f"{m:>10}  solved {s['solved']}/{s['runs']} runs{ev}")
    print(f"-> {run_dir} ({len(files)} report files)")


COMMANDS.register("search", Command("novelty search vs objective search (and a hybrid) over sparse NEAT-style "
                                    "controllers in the Lehman & Stanley mazes, runs x methods, resumable, with a "
                                    "report", setup, run))


def experiment():
    """(config class, run, run directory of a config) for `sparsenet sweep`, imported when used."""
    from .config import SearchConfig
    from .run import resolve_run_dir, run_search_experiment

    return SearchConfig, run_search_experiment, resolve_run_dir


EXPERIMENTS.register("search", experiment)
