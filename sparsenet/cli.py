"""`sparsenet <command>`: commands come from a registry; user errors print one line, no traceback."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from .config import add_arguments, build_config
from .errors import SparsenetError
from .experiments.registry import COMMANDS, REPRODUCTIONS, Command

# Experiments register their commands and reproductions in their packages' `command.py`, found
# when a registry is first read (`sparsenet.experiments.registry.discover`); here only the
# commands of the framework itself: reproduce, report, data.

# ---- reproduce -----------------------------------------------------------------------------
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


def _reproduce_help() -> str:
    return "run a named reproduction (" + ", ".join(REPRODUCTIONS.names()) + ")"


COMMANDS.register("reproduce", Command(_reproduce_help, _reproduce_setup, _reproduce_run))


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
        help_text = cmd.help_text()
        cmd.setup(sub.add_parser(name, help=help_text, description=help_text))
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
