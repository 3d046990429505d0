"""report.md text for a training run and for a seed figure (pure string building, no I/O).

Missing numbers print as "—"; accuracies print in percent with two decimals, seconds with
two decimals, speed-ups with one.
"""
from __future__ import annotations

import json
import math
from typing import Any, Mapping, Sequence

from .claims import Claim
from .seedtable import (DESCRIPTIONS, LABELS, SPARSE_PHASE, WidthTable, fmt_seconds,
                        percent_scale, sparse_variants, speedup)

DASH = "—"
Tails = Mapping[str, Mapping[str, Mapping[str, Mapping[str, float]] | None]]


def _isnum(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def fmt(x: Any, spec: str = ".2f", suffix: str = "") -> str:
    """`x` formatted with `spec`, or a dash when it is missing or not finite."""
    return f"{x:{spec}}{suffix}" if _isnum(x) else DASH


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def threads_text(threads: Any) -> str:
    """ "1 thread", "4 threads"."""
    return f"{threads} thread" + ("" if threads == 1 else "s")


def machine_line(machine: Any) -> str:
    if not isinstance(machine, Mapping) or not machine:
        return "Machine: not recorded."
    parts = [str(machine.get("cpu") or "unknown CPU")]
    if machine.get("threads") is not None:
        parts.append(threads_text(machine["threads"]))
    if machine.get("torch"):
        parts.append(f"torch {machine['torch']}")
    if machine.get("date"):
        parts.append(str(machine["date"]))
    return "Machine: " + " · ".join(parts)


def _images(images: Sequence[tuple[str, str]]) -> list[str]:
    out = ["## Figures", ""]
    out += [f"![{title}]({name})\n" for title, name in images] or ["No figures.\n"]
    return out


def _notes(notes: Sequence[str]) -> list[str]:
    if not notes:
        return []
    return ["## Notes", ""] + [f"- {n}" for n in notes] + [""]


def _cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "`" + json.dumps(value, separators=(",", ":")) + "`"
    return DASH if value is None else str(value)


# ----------------------------------------------------------------------------- train run


def train_markdown(name: str, results: Mapping[str, Any], config: Mapping[str, Any] | None,
                   tails: Tails, images: Sequence[tuple[str, str]],
                   notes: Sequence[str]) -> str:
    """report.md of one training run."""
    out = [f"# Run `{name}`", ""]
    if config and config.get("command"):
        out += [f"`{config['command']}`" + (f" · sparsenet {config['version']}"
                                            if config.get("version") else ""), ""]
    flat = config.get("config") if config else None
    if isinstance(flat, Mapping) and flat:
        out += ["## Configuration", "",
                _table(["key", "value"], [[f"`{k}`", _cell(v)] for k, v in flat.items()], "ll"),
                ""]

    acc = results.get("test_accuracy")
    live, total = results.get("live_weights"), results.get("total_weights")
    density = live / total if _isnum(live) and _isnum(total) and total > 0 else None
    rows = [
        ["test accuracy", fmt(acc * percent_scale([acc]) if _isnum(acc) else None, ".2f", " %")],
        ["test loss", fmt(results.get("test_loss"), ".4f")],
        ["live / total weights",
         f"{_cell(live)} / {_cell(total)}" + (f" ({100 * density:.2f} %)" if density else "")],
        ["hidden units", ", ".join(map(str, results.get("hidden_units") or [])) or DASH],
        ["training seconds (all phases)", fmt(results.get("train_seconds"))],
    ]
    phases = results.get("phase_seconds")
    if isinstance(phases, Mapping):
        rows += [[f"{phase} seconds", fmt(secs)] for phase, secs in phases.items()]
    out += ["## Results", "", _table(["quantity", "value"], rows, "lr"), "",
            machine_line(results.get("machine")), ""]
    out += _segments_section(results.get("segments"))

    layers = [lay for lay in results.get("layers") or [] if isinstance(lay, Mapping)]
    if layers:
        lrows = []
        for lay in layers:
            shape = lay.get("shape")
            lv, tot = lay.get("live"), lay.get("total")
            dens = 100 * lv / tot if _isnum(lv) and _isnum(tot) and tot > 0 else None
            lrows.append([f"`{lay.get('name', '?')}`",
                          "×".join(map(str, shape)) if isinstance(shape, list) else DASH,
                          _cell(lv), _cell(tot), fmt(dens, ".2f", " %")])
        out += ["## Layers", "",
                _table(["layer", "shape (out×in)", "live", "total", "density"], lrows), ""]

    out += _tails_section(tails)
    out += _images(images)
    out += _notes(notes)
    return "\n".join(out).rstrip() + "\n"


def _segments_section(segments: Any) -> list[str]:
    """Training time of each process run of a run that was killed and resumed (one row each)."""
    segs = [s for s in segments or [] if isinstance(s, Mapping)]
    if len(segs) < 2:
        return []
    rows = []
    for i, seg in enumerate(segs, 1):
        m = seg.get("machine") if isinstance(seg.get("machine"), Mapping) else {}
        where = ", ".join(str(x) for x in (m.get("cpu"), m.get("threads") and threads_text(m["threads"]),
                                         m.get("device"), m.get("date")) if x) or DASH
        rows.append([str(i), _cell(seg.get("steps")), fmt(seg.get("seconds")), where])
    total = sum(seg["seconds"] for seg in segs if _isnum(seg.get("seconds")))
    return ["## Segments", "",
            f"The run was resumed {len(segs) - 1} time(s). Each segment is one process run; steps redone "
            "after a kill (since its last checkpoint) count once, in the segment that kept them, so the "
            f"total, {fmt(total)} s, is comparable with an uninterrupted run's training time.", "",
            _table(["segment", "steps", "training seconds", "machine"], rows, "rrrl"), ""]


def _tails_section(tails: Tails) -> list[str]:
    """Hill tail index and max/median of live |w| and |grad| per layer and moment."""
    cols: list[tuple[str, str, str]] = []  # (quantity, moment, header)
    layers: list[str] = []
    for quantity, by_moment in tails.items():
        for moment, per_layer in by_moment.items():
            if per_layer:
                cols.append((quantity, moment, f"{quantity} {moment}"))
                layers += [name for name in per_layer if name not in layers]
    if not cols:
        return []
    header = ["layer"]
    for _, _, h in cols:
        header += [f"α {h}", f"max/median {h}"]
    rows = []
    for layer in layers:
        row = [f"`{layer}`"]
        for quantity, moment, _ in cols:
            s = (tails[quantity][moment] or {}).get(layer) or {}
            row += [fmt(s.get("hill")), fmt(s.get("max_over_median"), ".1f")]
        rows.append(row)
    return ["## Tails of live magnitudes", "",
            "Hill (1975) tail index α of the largest max(10, 5 %) values per layer: smaller "
            "α = heavier tail.", "", _table(header, rows), ""]


# ----------------------------------------------------------------------------- seed figure


def results_rows(table: WidthTable, variant: str = "sparse") -> list[list[str]]:
    """Rows of a results table: width | dense acc | `variant` acc | Δ | live d/s | d s | s s | ×."""
    rows = []
    for width, cells in table.items():
        d, s = cells.get("dense"), cells.get(variant)
        acc_d = d.accuracy if d else math.nan
        acc_s = s.accuracy if s else math.nan
        delta = acc_s - acc_d
        rows.append([
            str(width), fmt(acc_d), fmt(acc_s), fmt(delta, "+.2f"),
            f"{_cell(d.live_weights if d else None)} / {_cell(s.live_weights if s else None)}",
            fmt_seconds(d.seconds if d else math.nan), fmt_seconds(s.seconds if s else math.nan),
            fmt(speedup(cells, variant), ".1f", "×"),
        ])
    return rows


def phase_rows(table: WidthTable, variant: str) -> list[list[str]]:
    """Rows of the per-phase time table of one variant: where the training time goes."""
    rows = []
    for width, cells in table.items():
        c = cells.get(variant)
        if c is None:
            continue
        parts = [c.hidden_live_weights, c.output_live_weights]
        live = (f"{parts[0]:,} + {parts[1]:,}" if None not in parts else _cell(c.live_weights))
        units = DASH if c.live_hidden_units is None else str(c.live_hidden_units)
        ph = c.phase_seconds
        main = SPARSE_PHASE if variant != "dense" else "dense"
        secs = [fmt_seconds(_num_or_nan(x)) for x in (ph.get("burnin"), ph.get("prune"), ph.get(main), c.seconds)]
        rows.append([str(width), live, units, *secs])
    return rows


def reference_rows(table: WidthTable) -> list[list[str]]:
    rows = []
    for width, cells in table.items():
        d, s = cells.get("dense"), cells.get("sparse")
        rows.append([str(width), fmt(d.accuracy if d else None), fmt(s.accuracy if s else None),
                     fmt(d.seconds if d else None), fmt(s.seconds if s else None),
                     fmt(speedup(cells), ".1f", "×")])
    return rows


def claim_line(claim: Claim) -> str:
    return f"- **({claim.key}) {claim.status}**: {claim.statement}. {claim.detail}"


SEED_DOC = 'the seed document (design doc 000, H. Lee, "Stupid Optimization on MLP", 2016)'


def _num_or_nan(x: Any) -> float:
    return float(x) if _isnum(x) else math.nan


def _count(x: Any) -> int | None:
    return x if isinstance(x, int) and not isinstance(x, bool) else None


def _protocol(results: Mapping[str, Any], variants: Sequence[str]) -> list[str]:
    samples = results.get("samples") if isinstance(results.get("samples"), Mapping) else {}
    budget, out_budget = _count(results.get("budget")), _count(results.get("output_budget"))
    n_test = _count(results.get("n_test"))
    def n(x: Any) -> str:
        return f"{x:,}" if _count(x) is not None else _cell(x)

    lines = [f"Protocol of {SEED_DOC}: MLP in-H-10, online SGD (batch 1), "
             f"{n(samples.get('burnin'))} dense burn-in samples, pruning by magnitude, then "
             f"{n(samples.get('after_pruning'))} samples; tested on "
             + ("the full test set" if n_test is None else f"{n_test:,} test examples")
             + (" (--quick)" if results.get("quick") else "") + ".", ""]
    if budget is not None and "sparse" in variants:
        lines += [f"- **{LABELS['sparse']}**: hidden layer halved at the median |w| until ≤ "
                  f"{budget:,} live weights, output layer dense (the seed's protocol): the total "
                  "grows with the hidden units that survive."]
    if budget is not None and out_budget is not None and "fixed-total" in variants:
        lines += [f"- **{LABELS['fixed-total']}**: output layer pruned too, first, to the "
                  f"{out_budget:,} largest |w|, then the hidden layer to the {budget:,} largest on "
                  f"the units that keep an output: {budget + out_budget:,} live weights at every "
                  "width (fewer where a layer is smaller)."]
    return lines + ["", "Times are training seconds measured in this run on the machine below "
                    "(numba compile and test evaluation excluded)."]


def seed_markdown(results: Mapping[str, Any], table: WidthTable, reference: WidthTable,
                  claims: Mapping[str, Sequence[Claim]], images: Sequence[tuple[str, str]],
                  runs: Sequence[tuple[str, str | None]], notes: Sequence[str]) -> str:
    """report.md of a seed figure. `claims` maps a sparse variant to its claims; `runs` lists
    (label, link to the run's report or None)."""
    dataset = results.get("dataset", "?")
    out = [f"# Seed figure: dense vs sparse MLP 784-H-10 on {dataset}", ""]
    variants = sparse_variants(table) or ["sparse"]
    out += _protocol(results, variants) + ["", machine_line(results.get("machine")), ""]
    for v in variants:
        out += [f"## Results: {LABELS[v]}", "", f"{DESCRIPTIONS[v].capitalize()}.", "",
                _table(["width", "dense acc (%)", f"{LABELS[v]} acc (%)", "Δ points",
                        "live weights dense / sparse", "dense s", f"{LABELS[v]} s", "speed-up"],
                       results_rows(table, v), "rrrrrrrr"), ""]
    if any(c.count > 1 for cells in table.values() for c in cells.values()):
        out += ["Some cells are means over several runs (seeds).", ""]
    out += ["## Where the time goes", "",
            "Seconds per phase; the dense burn-in and the pruning scale with the width by design, "
            "the sparse-training phase with the live weights (hidden + output).", ""]
    for v in variants:
        out += [f"{LABELS[v]}:", "",
                _table(["width", "live weights (hidden + output)", "hidden units", "burn-in s",
                        "prune s", "sparse training s", "whole run s"],
                       phase_rows(table, v), "rrrrrrr"), ""]
    out += ["## Claims", ""]
    for v, cs in claims.items():
        out += [f"### {LABELS.get(v, v)}", ""] + [claim_line(c) for c in cs] + [""]
    ref = results.get("reference")
    if reference:
        name = ref.get("dataset", "?") if isinstance(ref, Mapping) else "?"
        src = ref.get("source") if isinstance(ref, Mapping) else None
        out += [f"## Reference ({name})", "",
                f"Source: {src or 'not given'}. Reported there (dataset {name}, another machine), "
                "quoted here, not measured: the dashed lines of the figures.", "",
                _table(["width", "dense acc (%)", "sparse acc (%)", "dense s", "sparse s",
                        "speed-up"], reference_rows(reference), "rrrrrr"), "",
                "The reference numbers come from another dataset and machine: compare "
                "shapes, not absolute values.", ""]
    else:
        out += ["No reference numbers were recorded.", ""]
    out += _images(images)
    if images and reference:
        src = ref.get("source") if isinstance(ref, Mapping) else None
        out += ["Solid lines: measured in this run. Dashed lines (\"reference\"): the numbers "
                f"reported in {src or 'the reference'}.", ""]
    if runs:
        out += ["## Runs", ""]
        out += [f"- [{label}]({link})" if link else f"- {label}: no report" for label, link in runs]
        out += [""]
    out += _notes(notes)
    return "\n".join(out).rstrip() + "\n"


__all__ = ["train_markdown", "seed_markdown", "results_rows", "phase_rows", "reference_rows", "claim_line",
           "machine_line", "fmt"]
