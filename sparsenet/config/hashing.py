"""A config as a JSON-safe dict, its non-default values, its hash and its run name."""
from __future__ import annotations

import hashlib
import json
from typing import Sequence

from .declare import MISSING, _options

# Keys that say where a run's files go or what it shows, never what it computes: left out of
# `config_hash`. Each exists in at least one command's config (a test checks it). `threads` is
# not here: torch's CPU kernels are not bit-identical across thread counts (30 Adam steps of
# LeNet-300-100 at batch 60 differ by 2e-5 between 1 and 2 threads), so it changes results.
HASH_EXCLUDE = ("resume", "out", "run_dir", "data_dir", "progress", "report", "figure")


def config_to_dict(cfg) -> dict:
    """All fields in declaration order, JSON-safe (tuples become lists)."""
    return {o.name: _jsonable(getattr(cfg, o.name)) for o in _options(type(cfg))}


def non_default_items(cfg) -> dict:
    """The fields whose value differs from the declared default (required fields always)."""
    return {o.name: getattr(cfg, o.name) for o in _options(type(cfg))
            if o.default is MISSING or getattr(cfg, o.name) != o.default}


def config_hash(cfg, exclude: Sequence[str] = HASH_EXCLUDE) -> str:
    """8 hex digits: sha256 of the sorted, compact JSON of the non-default items not in `exclude`."""
    items = {k: _jsonable(v) for k, v in non_default_items(cfg).items() if k not in exclude}
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def run_name(prefix: str, cfg, exclude: Sequence[str] = HASH_EXCLUDE) -> str:
    """`prefix-<config_hash>`, or `prefix-default` when no hashed field differs from its default."""
    if not any(k not in exclude for k in non_default_items(cfg)):
        return f"{prefix}-default"
    return f"{prefix}-{config_hash(cfg, exclude)}"


def _jsonable(v):
    return [_jsonable(x) for x in v] if isinstance(v, (tuple, list)) else v
