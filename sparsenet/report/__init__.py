"""Reports built only from the files a run wrote (never retraining): PNG figures + report.md.

`write_report(run_dir)` reads results.json's "experiment" and dispatches through the
`REPORTS` registry: one writer per experiment, registered by its own `<kind>_report.py` module
(found by `discover_reports`, so adding a report kind edits no table here).
Plotting modules are imported when a report is written, so importing this package (e.g.
by the CLI) stays cheap.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..errors import SparsenetError
from ..registry import Registry, import_modules

ReportWriter = Callable[[Path, dict[str, Any]], list[Path]]


def discover_reports() -> list[str]:
    """Import every `sparsenet/report/*_report.py` module; each registers its kind(s) in `REPORTS`
    (`@REPORTS.register("<kind>")` over its writer). Run when `REPORTS` is first read, so importing
    this package (as the CLI does) imports no plotting code."""
    return import_modules(__name__, suffix="_report")


REPORTS: Registry[ReportWriter] = Registry("report kind", discover=discover_reports)


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


__all__ = ["REPORTS", "discover_reports", "write_report"]
