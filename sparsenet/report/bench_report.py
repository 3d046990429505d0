"""report.md of a `sparsenet bench` run: its tables, rebuilt from results.json."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import io


def write_bench_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    from ..experiments.bench import format_tables

    return [io.write_text(run_dir / "report.md", format_tables(results))]
