"""Reports built only from the files a run wrote (never retraining): PNG figures + report.md.

`write_report(run_dir)` reads results.json's "experiment" and dispatches through the
`REPORTS` registry: one writer per experiment (train, seed-figure, second-order, prune,
prune-compare, lottery, bench).
Plotting modules are imported when a report is written, so importing this package (e.g.
by the CLI) stays cheap.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

from ..errors import SparsenetError
from ..registry import Registry

ReportWriter = Callable[[Path, dict[str, Any]], list[Path]]
REPORTS: Registry[ReportWriter] = Registry("report kind")


# experiment -> "module:function" of its writer, imported only when a report is written
_WRITERS = {
    "train": "train_report:write_train_report",
    "seed-figure": "seed_report:write_seed_report",
    "second-order": "second_order_report:write_second_order_report",
    "prune": "prune_report:write_prune_report",
    "prune-compare": "prune_report:write_prune_report",
    "lottery": "lottery_report:write_lottery_report",
    "bench": "bench_report:write_bench_report",
}


def _lazy(target: str) -> ReportWriter:
    module, function = target.split(":")

    def write(run_dir: Path, results: dict[str, Any]) -> list[Path]:
        return getattr(importlib.import_module(f"{__name__}.{module}"), function)(run_dir, results)
    return write


for _kind, _target in _WRITERS.items():
    REPORTS.register(_kind, _lazy(_target))


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
