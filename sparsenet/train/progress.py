"""What a run shows while it works: a bar on a terminal, one plain line per unit of work elsewhere.

Bars and lines go to stderr (stdout holds the command's result). On a terminal, `bar` draws a tqdm
bar that the loop advances at least twice a second (`CHUNK_SECONDS`); when stderr is not a
terminal (a CI log, ``nohup``, ``2> file``) no bar is drawn and `line` prints one plain line per
phase, pruning point, lottery level or seed-figure width instead, so a log shows where a long run
is. ``--no-progress`` turns both off.
"""
from __future__ import annotations

import sys

# The loop cuts the steps between two log/eval/checkpoint boundaries into chunks of about this
# many seconds, so the bar moves >= 2x a second; a chunk boundary costs one Python call.
CHUNK_SECONDS = 0.2
# A chunk grows at most this many times over the previous one (the first chunks time tiny work).
CHUNK_GROWTH = 4


def is_terminal(stream=None) -> bool:
    stream = sys.stderr if stream is None else stream
    return bool(getattr(stream, "isatty", lambda: False)())


def bar(enabled: bool, *, total: int, initial: int, desc: str):
    """A tqdm bar on a terminal, else None."""
    if not enabled or not is_terminal():
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", leave=False,
                mininterval=CHUNK_SECONDS, file=sys.stderr)


def line(enabled: bool, text: str) -> None:
    """One plain progress line, only where no bar can be drawn (stderr is not a terminal)."""
    if enabled and not is_terminal():
        print(text, file=sys.stderr, flush=True)


def next_chunk(cap: int, done: int, seconds: float, target: float = CHUNK_SECONDS) -> int:
    """Steps in the next chunk: the measured rate times `target` seconds, growing by at most
    `CHUNK_GROWTH`x per chunk, at least 1.

    >>> next_chunk(1, 1, 1e-5)          # very fast steps: grow 4x, not to 20000 at once
    4
    >>> next_chunk(1024, 1024, 2.0)     # 512 steps/s -> ~0.2 s chunks
    102
    >>> next_chunk(8, 8, 0.0, target=0)  # target 0: one step per chunk
    1
    """
    if target <= 0:
        return 1
    if done <= 0:
        return cap
    rate_cap = int(done / seconds * target) if seconds > 0 else cap * CHUNK_GROWTH
    return max(1, min(rate_cap, cap * CHUNK_GROWTH))


__all__ = ["CHUNK_SECONDS", "bar", "is_terminal", "line", "next_chunk"]
