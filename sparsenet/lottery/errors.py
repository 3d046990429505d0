"""Lottery-ticket user errors: each a one-line `ConfigError` naming the bad value and the fix.

They are raised before any training starts (see `sparsenet.experiments.lottery.config`).
"""
from __future__ import annotations

from ..errors import ConfigError


class RewindError(ConfigError):
    """The rewind step is not inside the training run (late rewinding needs 0 <= k < steps)."""


class PruneRateError(ConfigError):
    """A pruning rate outside the open interval (0, 1)."""


class LevelError(ConfigError):
    """A pruning level count that would leave some layer with no weights."""


class TopKError(ConfigError):
    """An edge-popup k (percent of weights kept) outside (0, 100]."""


__all__ = ["LevelError", "PruneRateError", "RewindError", "TopKError"]
