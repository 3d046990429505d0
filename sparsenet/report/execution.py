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


__all__ = ["execution_lines"]
