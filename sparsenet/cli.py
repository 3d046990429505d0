"""`sparsenet <command>`: commands come from a registry; user errors print one line, no traceback."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Callable

from .config import add_arguments, build_config
from .errors import SparsenetError
from .registry import Registry


@dataclass(frozen=True)
class Command:
    help: str
    setup: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]


COMMANDS: Registry[Command] = Registry("command")
REPRODUCTIONS: Registry[tuple] = Registry("reproduction")  # name -> (factory, help); factory() -> (config class, run, run dir of a config)


# ---- train ---------------------------------------------------------------------------------
def _train_setup(p):
    from .experiments.train_config import TrainConfig

    add_arguments(p, TrainConfig)


def _train_run(args):
    from .experiments.train import resolve_run_dir, run_train
    from .experiments.train_config import TrainConfig

    from .report import write_report
    from .train.health import print_warnings

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
                                   _train_setup, _train_run))


# ---- reproduce -----------------------------------------------------------------------------
def _seed_figure():
    from .experiments.seed_figure import SeedFigureConfig, resolve_run_dir, run_seed_figure

    return SeedFigureConfig, run_seed_figure, resolve_run_dir


REPRODUCTIONS.register("seed-figure", (_seed_figure, "the seed's accuracy and speed vs hidden width figures"))


def _second_order():
    from .experiments.second_order import SecondOrderConfig, resolve_run_dir, run_second_order

    return SecondOrderConfig, run_second_order, resolve_run_dir


REPRODUCTIONS.register("second-order", (_second_order, "saddle-free Newton (exact and Krylov) and Hessian-free vs "
                                        "SGD/Adam: a saddle, Rosenbrock, the seed's slow net, the pruned subspace"))


def _reproduce_setup(p):
    sub = p.add_subparsers(dest="name", metavar="NAME", required=True)
    for name in REPRODUCTIONS.names():
        factory, help_text = REPRODUCTIONS.get(name)
        cls = factory()[0]
        add_arguments(sub.add_parser(name, help=help_text, description=help_text), cls)


def _reproduce_run(args):
    factory, _ = REPRODUCTIONS.get(args.name)
    cls, run, run_dir = factory()
    cfg = build_config(cls, args)
    run(cfg)
    print(f"wrote {run_dir(cfg)}/results.json, report.md and figures")


COMMANDS.register("reproduce", Command("run a named reproduction (" + ", ".join(REPRODUCTIONS.names()) + ")",
                                       _reproduce_setup, _reproduce_run))


# ---- report --------------------------------------------------------------------------------
def _report_setup(p):
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by train or reproduce")


def _report_run(args):
    from .report import write_report

    for path in write_report(args.run_dir):
        print(path)


COMMANDS.register("report", Command("regenerate report.md and plots from a run directory's files",
                                    _report_setup, _report_run))


# ---- data ----------------------------------------------------------------------------------
def _data_setup(p):
    p.add_argument("--data-dir", default=None, help="read datasets from this directory (or its per-dataset subfolder) instead of the default places")


def _data_run(args):
    from .data import describe_datasets, format_dataset_table

    print(format_dataset_table(describe_datasets(args.data_dir)))


COMMANDS.register("data", Command("list datasets: where each was found or why not, and how to get it",
                                  _data_setup, _data_run))


# ---- bench ---------------------------------------------------------------------------------
def _bench_setup(p):
    from .experiments.bench import BenchConfig

    add_arguments(p, BenchConfig)


def _bench_run(args):
    from .experiments.bench import BenchConfig, run_bench
    from .report.bench_report import format_tables

    cfg = build_config(BenchConfig, args)
    print(format_tables(run_bench(cfg)))
    print(f"wrote {cfg.out}/results.json and {cfg.out}/table.md")


COMMANDS.register("bench", Command("time sparse training kernels (layer and MLP steps) against dense PyTorch "
                                   "and other sparse libraries", _bench_setup, _bench_run))


# ---- prune ---------------------------------------------------------------------------------
def _prune_setup(p):
    from .experiments.prune_config import PruneConfig

    add_arguments(p, PruneConfig)


def _prune_run(args):
    from .experiments.prune import resolve_run_dir, run_prune
    from .experiments.prune_config import PruneConfig
    from .report import write_report
    from .train.health import print_warnings

    cfg = build_config(PruneConfig, args)
    r = run_prune(cfg)
    run_dir = resolve_run_dir(cfg)
    figures = write_report(run_dir)
    if cfg.figure:
        import shutil
        from pathlib import Path

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
                                   _prune_setup, _prune_run))


# ---- lottery -------------------------------------------------------------------------------
def _lottery_setup(p):
    from .experiments.lottery_cli import setup

    setup(p)


def _lottery_run(args):
    from .experiments.lottery_cli import run

    return run(args)


COMMANDS.register("lottery", Command("lottery tickets: IMP with rewinding (resumable levels), controls, "
                                     "supermasks, early-bird, edge-popup, sparse double descent",
                                     _lottery_setup, _lottery_run))


class _Parser(argparse.ArgumentParser):
    """A bad flag ends in one line like every other user error (argparse prints the usage first);
    subcommand parsers are of this class too (`add_subparsers` uses the parent's class)."""

    def error(self, message: str):
        self.exit(2, f"sparsenet: error: {_one_line(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sparsenet", description="Sparse and compressed neural networks on PyTorch.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS.names():
        cmd = COMMANDS.get(name)
        cmd.setup(sub.add_parser(name, help=cmd.help, description=cmd.help))
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Run one command. User errors, filesystem errors (read-only directory, a file where a
    directory should be, disk full, file-size limit) and Ctrl-C end in one line on stderr."""
    from .rundir import Interrupted, describe_os_error

    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(signal, "SIGXFSZ") and threading.current_thread() is threading.main_thread():
        # over `ulimit -f` a write then fails with EFBIG (reported below) instead of killing us
        previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    else:
        previous = None
    try:
        rc = COMMANDS.get(args.command).run(args)
    except SparsenetError as e:
        print(f"sparsenet: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"sparsenet: error: {_one_line(describe_os_error(e))}", file=sys.stderr)
        return 2
    except Interrupted as e:
        print(f"sparsenet: interrupted; rerun the same command with --resume to continue {e.run_dir}",
              file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("sparsenet: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGXFSZ, previous)
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
