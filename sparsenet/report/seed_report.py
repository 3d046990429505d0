"""Report of a seed figure: accuracy.png, speed.png, histograms of the largest sparse run,
the claims, report.md, and a training-run report in every sub-run directory."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import REPORTS
from ..errors import SparsenetError
from ..io import write_bytes, write_text
from .claims import MIN_SPEEDUP, check_all_claims
from .markdown import seed_markdown
from .seed_plots import plot_accuracy, plot_speed
from .runs import read_results
from .seedtable import LABELS, reference_table, rows_table, sparse_variants
from .train_report import HISTOGRAM_FILES, write_train_report


def resolve_run_dir(seed_dir: Path, run_dir: Any) -> Path | None:
    """The directory of a row's run: absolute, relative to the seed dir, or runs/<name>."""
    if not run_dir:
        return None
    p = Path(str(run_dir))
    if p.is_absolute():
        return p if p.is_dir() else None
    for candidate in (seed_dir / p, seed_dir / "runs" / p.name):
        if candidate.is_dir():
            return candidate
    return None


def _link(seed_dir: Path, target: Path) -> str:
    return Path(os.path.relpath(target, seed_dir)).as_posix()


@REPORTS.register("seed-figure")
def write_seed_report(seed_dir: Path, results: dict[str, Any]) -> list[Path]:
    seed_dir = Path(seed_dir)
    notes: list[str] = []
    rows = results.get("rows")
    table = rows_table(rows, source=str(seed_dir / "results.json"))
    reference = reference_table(results.get("reference"))
    if results.get("reference") is not None and not reference:
        notes.append("results.json has a \"reference\" entry without usable widths/values.")
    claims = check_all_claims(table)

    written = [plot_accuracy(table, results.get("reference"), seed_dir / "accuracy.png",
                             title=f"test accuracy, {results.get('dataset', '')}".rstrip(", ")),
               plot_speed(table, results.get("reference"), seed_dir / "speed.png",
                          ratio_line=MIN_SPEEDUP)]
    images = [("test accuracy vs width", "accuracy.png"), ("training time vs width", "speed.png")]

    # A report in every sub-run; one that cannot be written is noted, not fatal.
    runs: list[tuple[str, str | None]] = []
    largest_sparse: tuple[int, Path] | None = None
    # Histograms of the seed's variant when it ran, else of the other sparse variant.
    hist_variant = (sparse_variants(table) or ["sparse"])[0]
    for row in sorted(rows, key=lambda r: (r["width"], r["variant"])):
        label = f"width {row['width']} {row['variant']}"
        path = resolve_run_dir(seed_dir, row.get("run_dir"))
        if path is None:
            notes.append(f"{label}: run directory {row.get('run_dir')!r} not found.")
            runs.append((label, None))
            continue
        try:
            sub = read_results(path)
            if sub.get("experiment") != "train":
                raise SparsenetError(f"{path} holds a {sub.get('experiment')!r} experiment, "
                                     "not a training run")
            written += write_train_report(path, sub)
            runs.append((f"{label} ({_link(seed_dir, path)})",
                         _link(seed_dir, path / "report.md")))
        except SparsenetError as e:
            notes.append(f"{label}: {e}")
            runs.append((label, None))
            continue
        if row["variant"] == hist_variant and (largest_sparse is None
                                           or row["width"] > largest_sparse[0]):
            largest_sparse = (row["width"], path)

    if largest_sparse is None:
        notes.append("no sparse run with a report: weights_hist.png and grads_hist.png not drawn.")
    else:
        # The sub-run report just drew its histograms; copy them up rather than redraw.
        width, path = largest_sparse
        top = max(w for w, cells in table.items() if hist_variant in cells)
        name = LABELS[hist_variant]
        if width != top:
            notes.append(f"the width {top} {name} run has no report: the histograms are of "
                         f"width {width} instead.")
        for fname in HISTOGRAM_FILES:
            src = path / fname
            if src not in written:
                notes.append(f"{fname} not drawn: the width {width} {name} run has no snapshot "
                             "for it (see its report).")
                continue
            written.append(write_bytes(seed_dir / fname, src.read_bytes()))
            images.append((f"{fname[:-4].replace('_', ' ')} (width {width}, {name})", fname))

    text = seed_markdown(results, table, reference, claims, images, runs, notes)
    written.append(write_text(seed_dir / "report.md", text))
    return written
