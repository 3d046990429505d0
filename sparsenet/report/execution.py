"""The "Execution" section of a report: how each phase's masked layers trained (`--execution`).

Runs record, per training phase, one choice per masked layer (layer, shape, density, choice, reason;
`sparsenet.train.execution`; a gradual phase also the step from which a layer ran on CSR); this
renders them as a table so a reader sees which layers ran on the O(nnz) CSR kernels and why.
"""
from __future__ import annotations

from typing import Any, Iterable


def execution_lines(phases: Iterable[dict[str, Any]], seconds: dict[str, float] | None = None) -> list[str]:
    """Markdown lines for `phases` ([{"phase", "layers": [choice, ...]}, ...]); [] when there are none.

    >>> print("\\n".join(execution_lines([{"phase": "p:0", "layers": [
    ...     {"layer": "fc.weight", "shape": [4, 8], "density": 0.25, "choice": "csr", "reason": "--execution csr"}]}])))
    ## Execution
    <BLANKLINE>
    | phase | layer | shape | density | trained as | why |
    |---|---|---|---:|---|---|
    | p:0 | fc.weight | 4×8 | 25% | csr | --execution csr |
    <BLANKLINE>
    """
    rows = []
    for ph in phases:
        for c in ph.get("layers") or []:
            shape = "×".join(str(s) for s in c.get("shape") or [])
            choice = c.get("choice", "?")
            if c.get("from_step") is not None:  # a gradual phase: dense until that pruning step
                choice = f"{choice} from step {c['from_step']}"
            rows.append(f"| {ph.get('phase', '?')} | {c.get('layer', '?')} | {shape} | "
                        f"{100 * float(c.get('density', 0)):.3g}% | {choice} | {c.get('reason', '')} |")
    if not rows:
        return []
    lines = ["## Execution", ""]
    if seconds:
        lines += ["Retraining time (optimizer steps only, the loop's clock): "
                  + ", ".join(f"{k} {v:.3g} s" for k, v in seconds.items()), ""]
    return lines + ["| phase | layer | shape | density | trained as | why |", "|---|---|---|---:|---|---|"] + rows + [""]


def _short(layer: str) -> str:
    return layer[: -len(".weight")] if layer.endswith(".weight") else layer


def run_execution_lines(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Markdown lines for runs of many seeds (lottery rows: seed, level, kind, execution, train_seconds):
    one line per (level, kind) with each layer's choice over the seeds ("csr", or "csr 2/3" when
    seeds differ) and the mean training time; [] when no row recorded its execution."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r.get("execution"):
            groups.setdefault((r.get("level", 0), r.get("kind", "?")), []).append(r)
    if not groups:
        return []
    lines = ["## Execution", "", "How each level's masked layers trained (`--execution`; per layer, over the seeds; "
             "the reasons are in results.json).", "",
             "| level | % remaining | kind | layers | training s (mean) |", "|---:|---:|---|---|---:|"]
    for (level, kind), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        per_layer: dict[str, list[str]] = {}
        for r in rs:
            for c in r["execution"]:
                per_layer.setdefault(c.get("layer", "?"), []).append(c.get("choice", "?"))
        cells = []
        for layer, chosen in per_layer.items():
            top = max(set(chosen), key=chosen.count)
            share = "" if chosen.count(top) == len(chosen) else f" {chosen.count(top)}/{len(chosen)}"
            cells.append(f"{_short(layer)} {top}{share}")
        secs = [float(r["train_seconds"]) for r in rs if isinstance(r.get("train_seconds"), (int, float))]
        density = sum(float(r.get("density", 1.0)) for r in rs) / len(rs)
        lines.append(f"| {level} | {100 * density:.3g} | {kind} | {', '.join(cells)} | "
                     f"{sum(secs) / len(secs):.3g} |" if secs else
                     f"| {level} | {100 * density:.3g} | {kind} | {', '.join(cells)} | — |")
    return lines + [""]


__all__ = ["execution_lines", "run_execution_lines"]
