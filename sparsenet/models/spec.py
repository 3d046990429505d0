"""Parse layer-size specs such as ``"784-300-100-10"``."""
from __future__ import annotations

import re

from ..errors import ConfigError

_EXAMPLE = "a valid spec looks like '784-300-100-10' (input-hidden...-output, positive integers)"
_DIGITS = re.compile(r"[0-9]+")


def parse_layer_spec(spec: str) -> list[int]:
    """Turn ``"784-300-100-10"`` into ``[784, 300, 100, 10]``.

    A spec is at least two positive integers joined by ``-``: the input size, any hidden
    widths, then the output size. Surrounding whitespace of the whole spec is ignored.

    >>> parse_layer_spec("784-300-100-10")
    [784, 300, 100, 10]
    >>> parse_layer_spec("784")
    Traceback (most recent call last):
    ...
    sparsenet.errors.ConfigError: invalid layer spec '784': it has 1 size, needs at least 2 (input and output); a valid spec looks like '784-300-100-10' (input-hidden...-output, positive integers)
    """
    if not isinstance(spec, str):
        raise ConfigError(f"invalid layer spec {spec!r}: expected a string; {_EXAMPLE}")
    parts = spec.strip().split("-")
    sizes: list[int] = []
    for i, part in enumerate(parts, start=1):
        if part == "":
            raise ConfigError(f"invalid layer spec {spec!r}: part {i} is empty; {_EXAMPLE}")
        if not _DIGITS.fullmatch(part):
            raise ConfigError(
                f"invalid layer spec {spec!r}: part {i} {part!r} is not a positive integer; {_EXAMPLE}"
            )
        size = int(part)
        if size <= 0:
            raise ConfigError(
                f"invalid layer spec {spec!r}: part {i} {part!r} must be positive; {_EXAMPLE}"
            )
        sizes.append(size)
    if len(sizes) < 2:
        raise ConfigError(
            f"invalid layer spec {spec!r}: it has {len(sizes)} size, needs at least 2 "
            f"(input and output); {_EXAMPLE}"
        )
    return sizes


def format_layer_spec(sizes: list[int]) -> str:
    """The inverse of `parse_layer_spec`: ``[784, 300, 10]`` -> ``"784-300-10"``.

    >>> format_layer_spec([784, 300, 10])
    '784-300-10'
    """
    return "-".join(str(int(s)) for s in sizes)
