"""Did a training run learn anything? The one check behind every "sparsenet: warning:" about it.

A run can finish without a non-finite loss (which `train_phase` refuses) and still have failed:
``--lr 1e6`` ends with a finite loss of 1e7 and test accuracy 0.10 on ten classes. `run_warning`
says so when either holds:

* **chance accuracy**: the final test accuracy is at most that of always predicting the most
  frequent test class, plus a margin of ``max(0.01, 3 · sqrt(p (1 - p) / n))`` (three binomial
  standard errors of an accuracy p on n test examples: a chance-level model stays inside it);
* **loss blow-up**: the last logged training loss is at least `LOSS_RISE` (100) times the smaller
  of the first logged one and ``ln C`` (the loss of the uniform guess over C classes, where an
  initialised network starts), i.e. it rose by two orders of magnitude or more.

Train, prune (dense training and retraining) and lottery put the warnings in their
``results.json`` under ``"warnings"``; the CLI prints each as one stderr line and the reports list them.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Iterable, Sequence

import torch

LOSS_RISE = 100.0


def chance_accuracy(labels: torch.Tensor) -> float:
    """Accuracy of always predicting the most frequent label (1/C for balanced classes)."""
    if labels.numel() == 0:
        return 0.0
    return float(torch.bincount(labels.reshape(-1).long()).max()) / labels.numel()


def chance_margin(p: float, n: int) -> float:
    return max(0.01, 3.0 * math.sqrt(p * (1.0 - p) / max(1, n)))


def logged_losses(metrics_path: str | Path, phases: Iterable[str] | None = None, *,
                  prefix: str | None = None) -> list[float]:
    """Training losses of the ``"train"`` lines of a metrics.jsonl, in order: of `phases` only,
    or of the phases named `prefix` or ``prefix:...`` (default: every phase)."""
    keep = None if phases is None else set(phases)

    def wanted(phase) -> bool:
        if prefix is not None:
            return phase == prefix or str(phase).startswith(prefix + ":")
        return keep is None or phase in keep

    out = []
    try:
        with open(metrics_path, encoding="utf-8") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if r.get("event") == "train" and wanted(r.get("phase")):
                    out.append(float(r["loss"]))
    except FileNotFoundError:
        pass
    return out


def run_warning(what: str, *, accuracy: float, labels: torch.Tensor, losses: Sequence[float],
                num_classes: int, fix: str = "lower --lr") -> str | None:
    """One line when the run `what` ended at chance accuracy or with a blown-up loss, else None."""
    problems = []
    chance = chance_accuracy(labels)
    margin = chance_margin(chance, labels.numel())
    if labels.numel() and accuracy <= chance + margin:
        problems.append(f"final test accuracy {accuracy:.4f} is at chance level ({chance:.4f} for always "
                        f"predicting the most frequent class, margin {margin:.3f})")
    if losses and num_classes > 1:
        base = min(losses[0], math.log(num_classes))
        last = losses[-1]
        if base > 0 and last >= LOSS_RISE * base:
            ref = (f"the first logged {base:.3g}" if base == losses[0]
                   else f"ln {num_classes} = {base:.3g} (a uniform guess)")
            problems.append(f"the training loss rose to {last:.3g}, {last / base:.3g}x {ref}")
    if not problems:
        return None
    return f"{what}: {' and '.join(problems)}; the run learned nothing useful: {fix}"


def print_warnings(results: dict, limit: int = 5) -> None:
    """Each of ``results["warnings"]`` as one ``sparsenet: warning:`` line on stderr (at most
    `limit`, then how many more are in results.json)."""
    warnings = results.get("warnings") or []
    for w in warnings[:limit]:
        print(f"sparsenet: warning: {w}", file=sys.stderr)
    if len(warnings) > limit:
        print(f"sparsenet: warning: {len(warnings) - limit} more warnings in results.json", file=sys.stderr)


__all__ = ["LOSS_RISE", "chance_accuracy", "chance_margin", "logged_losses", "print_warnings", "run_warning"]
