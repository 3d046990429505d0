"""Checks for `option(check=...)`.

Each returns None when the value is fine, else the reason, which build_config prefixes with
the flag and value: "invalid --batch-size 0: must be a positive integer".
"""
from __future__ import annotations


def positive(v) -> str | None:
    if v > 0:
        return None
    return "must be a positive integer" if isinstance(v, int) else "must be > 0"


def non_negative(v) -> str | None:
    if v >= 0:
        return None
    return "must be a non-negative integer" if isinstance(v, int) else "must be >= 0"


def in_unit_interval_open_right(v) -> str | None:
    if 0 <= v < 1:
        return None
    return "sparsity is the fraction of weights removed, must be in [0, 1)"


def probability_open(v) -> str | None:
    return None if 0 < v < 1 else "must be in (0, 1)"


def all_positive(values) -> str | None:
    if all(v > 0 for v in values):
        return None
    if all(isinstance(v, int) for v in values):
        return "every entry must be a positive integer"
    return "every entry must be > 0"


def check_seed_list(seeds) -> None:
    """The --seeds of a trial grid: non-empty, distinct and non-negative (a ConfigError otherwise)."""
    from ..errors import ConfigError

    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ConfigError(f"--seeds {','.join(map(str, seeds))} must be distinct, non-negative and "
                          "non-empty, e.g. --seeds 0,1,2")


def check_no_repeats(values, flag: str, noun: str) -> None:
    """A grid axis (--compressions, --widths ...) gives each value once (a ConfigError otherwise)."""
    from ..errors import ConfigError

    if len(set(values)) != len(values):
        shown = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
        raise ConfigError(f"{flag} {shown} repeats a value; give each {noun} once")
