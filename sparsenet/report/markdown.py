"""report.md text for a training run and for a seed figure (pure string building, no I/O).

Missing numbers print as "—"; accuracies print in percent with two decimals, seconds with
two decimals, speed-ups with one.
"""
from __future__ import annotations

import json
import math
from typing import Any, Mapping, Sequence

from .claims import Claim
from .seedtable import WidthTable, percent_scale, speedup

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


def machine_line(machine: Any) -> str:
    if not isinstance(machine, Mapping) or not machine:
        return "Machine: not recorded."
    parts = [str(machine.get("cpu") or "unknown CPU")]
    if machine.get("threads") is not None:
        parts.append(f"{machine['threads']} threads")
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


def results_rows(table: WidthTable) -> list[list[str]]:
    """Rows of the main table: width | dense acc | sparse acc | Δ | live d/s | d s | s s | ×."""
    rows = []
    for width, cells in table.items():
        d, s = cells.get("dense"), cells.get("sparse")
        acc_d = d.accuracy if d else math.nan
        acc_s = s.accuracy if s else math.nan
        delta = acc_s - acc_d
        rows.append([
            str(width), fmt(acc_d), fmt(acc_s), fmt(delta, "+.2f"),
            f"{_cell(d.live_weights if d else None)} / {_cell(s.live_weights if s else None)}",
            fmt(d.seconds if d else None), fmt(s.seconds if s else None),
            fmt(speedup(cells), ".1f", "×"),
        ])
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


def seed_markdown(results: Mapping[str, Any], table: WidthTable, reference: WidthTable,
                  claims: Sequence[Claim], images: Sequence[tuple[str, str]],
                  runs: Sequence[tuple[str, str | None]], notes: Sequence[str]) -> str:
    """report.md of a seed figure. `runs` lists (label, link to the run's report or None)."""
    dataset = results.get("dataset", "?")
    out = [f"# Seed figure: dense vs sparse MLP 784-H-10 on {dataset}", ""]
    budget = results.get("budget")
    if budget is not None:
        out += [f"Weight budget of the sparse runs: {budget} live weights.", ""]
    out += [machine_line(results.get("machine")), ""]
    many = sorted({c.count for cells in table.values() for c in cells.values()} - {1})
    out += ["## Results", "",
            _table(["width", "dense acc (%)", "sparse acc (%)", "Δ points (sparse − dense)",
                    "live weights dense / sparse", "dense s", "sparse s", "speed-up"],
                   results_rows(table), "rrrrrrrr"), ""]
    if many:
        out += ["Some cells are means over several runs (seeds).", ""]
    out += ["## Claims", ""] + [claim_line(c) for c in claims] + [""]
    ref = results.get("reference")
    if reference:
        src = ref.get("source") if isinstance(ref, Mapping) else None
        name = ref.get("dataset", "?") if isinstance(ref, Mapping) else "?"
        out += [f"## Reference ({name})", "", f"Source: {src or 'not given'}.", "",
                _table(["width", "dense acc (%)", "sparse acc (%)", "dense s", "sparse s",
                        "speed-up"], reference_rows(reference), "rrrrrr"), "",
                "The reference numbers come from another dataset and machine: compare "
                "shapes, not absolute values.", ""]
    else:
        out += ["No reference numbers were recorded.", ""]
    out += _images(images)
    if runs:
        out += ["## Runs", ""]
        out += [f"- [{label}]({link})" if link else f"- {label}: no report" for label, link in runs]
        out += [""]
    out += _notes(notes)
    return "\n".join(out).rstrip() + "\n"


__all__ = ["train_markdown", "seed_markdown", "results_rows", "reference_rows", "claim_line",
           "machine_line", "fmt"]
