"""Reports built only from the files a run wrote (never retraining): PNG figures + report.md.

`write_report(run_dir)` reads results.json's "experiment" and dispatches through the
`REPORTS` registry: one writer per experiment (train, seed-figure, second-order, prune,
prune-compare, lottery, bench).
Plotting modules are imported when a report is written, so importing this package (e.g.
by the CLI) stays cheap.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..errors import SparsenetError
from ..registry import Registry

ReportWriter = Callable[[Path, dict[str, Any]], list[Path]]
REPORTS: Registry[ReportWriter] = Registry("report kind")


@REPORTS.register("train")
def _train(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    from .train_report import write_train_report

    return write_train_report(run_dir, results)


@REPORTS.register("seed-figure")
def _seed_figure(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    from .seed_report import write_seed_report

    return write_seed_report(run_dir, results)


@REPORTS.register("second-order")
def _second_order(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    from .second_order_report import write_second_order_report

    return write_second_order_report(run_dir, results)


@REPORTS.register("prune")
def _prune(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    from .prune_report import write_prune_report

    return write_prune_report(run_dir, results)


@REPORTS.register("prune-compare")
def _prune_compare(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    from .prune_report import write_prune_report

    return write_prune_report(run_dir, results)


@REPORTS.register("lottery")
def _lottery(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    from .lottery_report import write_lottery_report

    return write_lottery_report(run_dir, results)


@REPORTS.register("bench")
def _bench(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    from .. import io
    from ..experiments.bench import format_tables

    return [io.write_text(run_dir / "report.md", format_tables(results))]


def write_report(run_dir: str | Path) -> list[Path]:
    """Write report.md and the PNG figures into `run_dir`; return every file written.

    Raises SparsenetError (one line naming the path) when `run_dir` is not a finished run:
    missing, without results.json, with corrupt results.json, or of an unknown experiment.
    """
    from .runs import read_results

    run_dir = Path(run_dir)
    results = read_results(run_dir)
    kind = results["experiment"]
    if kind not in REPORTS:
        raise SparsenetError(
            f"{run_dir / 'results.json'}: no report for experiment {kind!r}; "
            f"valid experiments: {', '.join(REPORTS.names())}"
        )
    return REPORTS.get(kind)(run_dir, results)


__all__ = ["REPORTS", "write_report"]
