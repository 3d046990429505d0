"""Reading what a run wrote: results.json, config.json, metrics.jsonl, masks and snapshots.

Only results.json is required (it marks a finished run). Everything else is optional: a
missing or unreadable file adds a one-line note for the report instead of failing, so a
report can always be written for whatever a run left behind.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SparsenetError
from ..io import load_tensors, read_json
from .stats import abs_values

_HINT = "run `sparsenet train` or `sparsenet reproduce` first"

# Snapshot files by (quantity, moment), in the order the moments are drawn.
_SNAPSHOT_FILES = {
    ("weights", "burn-in"): "snapshots/weights_burnin.safetensors",
    ("weights", "final"): "snapshots/weights_final.safetensors",
    ("grads", "burn-in"): "snapshots/grads_burnin.safetensors",
    ("grads", "final"): "snapshots/grads_final.safetensors",
}


def read_results(run_dir: str | Path) -> dict[str, Any]:
    """results.json of `run_dir` as a dict; a SparsenetError naming the path if unusable."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise SparsenetError(f"not a run directory: {run_dir} does not exist; {_HINT}")
    if not run_dir.is_dir():
        raise SparsenetError(f"not a run directory: {run_dir} is not a directory; {_HINT}")
    path = run_dir / "results.json"
    if not path.is_file():
        raise SparsenetError(f"not a run directory: {run_dir} has no results.json; {_HINT}")
    try:
        results = read_json(path)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise SparsenetError(
            f"corrupt run directory: {path} is not valid JSON ({msg}); "
            "delete it and rerun `sparsenet train` or `sparsenet reproduce`"
        ) from None
    if not isinstance(results, dict) or not isinstance(results.get("experiment"), str):
        raise SparsenetError(
            f"corrupt run directory: {path} has no \"experiment\" field; "
            "delete it and rerun `sparsenet train` or `sparsenet reproduce`"
        )
    return results


def read_config(run_dir: Path, notes: list[str]) -> dict[str, Any] | None:
    """config.json, or None with a note when missing or unreadable."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        notes.append("config.json is missing: the configuration is not shown.")
        return None
    try:
        config = read_json(path)
    except (json.JSONDecodeError, UnicodeDecodeError):
        notes.append("config.json is not valid JSON: the configuration is not shown.")
        return None
    return config if isinstance(config, dict) else None


def read_metrics(run_dir: Path, notes: list[str]) -> list[dict[str, Any]]:
    """The JSON objects of metrics.jsonl; unparsable lines (a torn last line) are skipped."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        notes.append("metrics.jsonl is missing: no training curve.")
        return []
    events: list[dict[str, Any]] = []
    bad = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if isinstance(obj, dict):
                events.append(obj)
            else:
                bad += 1
    if bad:
        notes.append(f"metrics.jsonl: skipped {bad} unreadable line(s).")
    return events


def read_tensors(path: Path, notes: list[str], what: str) -> dict[str, Any] | None:
    """A safetensors file as {name: tensor}, or None with a note when missing or corrupt."""
    if not path.is_file():
        notes.append(f"{what} ({path.name}) is missing: skipped.")
        return None
    try:
        return load_tensors(path)
    except Exception as e:  # safetensors raises its own error types for torn files
        notes.append(f"{what} ({path.name}) could not be read ({type(e).__name__}): skipped.")
        return None


def _usable_masks(
    masks: dict[str, Any] | None, tensors: dict[str, Any], notes: list[str], what: str
) -> dict[str, Any] | None:
    """The masks whose shape matches the tensor of the same name (others are noted)."""
    if masks is None:
        return None
    usable = {}
    for name, t in tensors.items():
        m = masks.get(name)
        if m is None:
            continue
        if tuple(m.shape) != tuple(t.shape):
            notes.append(
                f"{what}: mask of {name} has shape {tuple(m.shape)} but the tensor has "
                f"{tuple(t.shape)}; exact zeros are taken as pruned instead."
            )
            continue
        usable[name] = m
    return usable


def live_magnitudes(
    run_dir: str | Path, notes: list[str]
) -> dict[str, dict[str, dict[str, np.ndarray] | None]]:
    """{"weights"|"grads": {"burn-in"|"final": {param: live |values|} or None if missing}}.

    Burn-in snapshots are taken before pruning, so nothing is masked there (exact zeros are
    still dropped: they have no place on log axes). Final snapshots keep only the entries
    that masks.safetensors marks live; without a mask file the zeros of the final weights
    define what was pruned, for the gradients as well (a pruned weight can still have a
    nonzero gradient).
    """
    run_dir = Path(run_dir)
    masks_path = run_dir / "masks.safetensors"
    masks = read_tensors(masks_path, [], "masks") if masks_path.is_file() else None
    loaded = {key: read_tensors(run_dir / rel, notes, f"{key[0]} snapshot at {key[1]}")
              for key, rel in _SNAPSHOT_FILES.items()}
    final_w = loaded[("weights", "final")]
    if masks is None and final_w is not None:
        masks = {name: w != 0 for name, w in final_w.items()}
    out: dict[str, dict[str, dict[str, np.ndarray] | None]] = {"weights": {}, "grads": {}}
    for (quantity, moment), tensors in loaded.items():
        if tensors is None:
            out[quantity][moment] = None
            continue
        use = None if moment == "burn-in" else _usable_masks(
            masks, tensors, notes, f"{quantity} snapshot at {moment}")
        out[quantity][moment] = abs_values(tensors, use)
    return out
