"""Picking between interchangeable kernels by timing the calls a program makes anyway.

Some layouts win on one CPU and lose on another (the panel product of `codegen_panels._panel_source`
halves a 4096-wide forward at batch 256 on a 2 MiB-L2 Intel Xeon and was slower on a 1 MiB-L2
AMD EPYC), and cache sizes alone did not predict which. So where two kernels compute the same
numbers bit for bit, the first calls for a given pattern and batch size alternate between them,
each timed, and from then on the faster one runs. No call is wasted (each is real work) and the
choice cannot change a result, only the speed. A choice made during a noisy start is not final:
after RECHECK calls the candidates are timed again, then after twice as many, and so on, so the
re-timing costs a vanishing share of the calls.
"""
from __future__ import annotations

import collections
import time
import weakref

TRIALS = 3  # timed calls per candidate before choosing (the minimum of each is compared)
RECHECK = 256  # calls after a choice before the candidates are timed again (then 2x as many, ...)


_DECISIONS: collections.deque = collections.deque(maxlen=4096)  # (number, label, best, min ms per name)
_MADE = 0  # decisions made in this process
_CHOOSING: "weakref.WeakSet[KernelChoice]" = weakref.WeakSet()  # live choices still timing candidates


def choosing() -> int:
    """How many live kernel choices are still timing their candidates (a benchmark warms up until
    the ones its calls started have settled, so its timed calls run the chosen kernels)."""
    return len(_CHOOSING)


def mark() -> int:
    """A point in the decision log: `decisions_since(mark())` lists what was chosen after it."""
    return _MADE


def decisions_since(start: int) -> list[dict]:
    """Choices made after `start` (a `mark()`): label, chosen kernel, each candidate's min ms."""
    return [{"product": label, "chosen": best, "min_ms": mins} for n, label, best, mins in _DECISIONS if n > start]


def _log(label: str, best: str, times: dict) -> None:
    global _MADE
    _MADE += 1
    _DECISIONS.append((_MADE, label, best, {n: round(min(t) * 1e3, 3) for n, t in times.items()}))


class KernelChoice:
    """The faster of `names` for one (pattern, batch size, ...) key; see the module docstring."""

    __slots__ = ("names", "label", "times", "best", "calls", "recheck", "rounds", "__weakref__")

    def __init__(self, names: tuple[str, ...], label: str = ""):
        self.names = tuple(names)
        self.label = label  # what is being chosen for, in the decision log (`decisions_since`)
        self.times = {n: [] for n in self.names}
        self.best: str | None = self.names[0] if len(self.names) == 1 else None
        self.calls = 0  # calls since the last choice
        self.recheck = RECHECK
        self.rounds = 0  # choices made so far
        if self.best is None:
            _CHOOSING.add(self)

    def next(self) -> str:
        """The candidate to run now: the chosen one, or while choosing the least-timed one."""
        if self.best is not None:
            return self.best
        return min(self.names, key=lambda n: len(self.times[n]))

    def record(self, name: str, seconds: float) -> None:
        if self.best is not None:
            return
        self.times[name].append(seconds)
        if all(len(t) >= TRIALS for t in self.times.values()):
            self.best = min(self.names, key=lambda n: min(self.times[n]))
            self.rounds += 1
            _CHOOSING.discard(self)
            _log(self.label, self.best, self.times)
            self.calls = 0

    def run(self, call):
        """call(name) -> result, timed while still choosing (and again after `recheck` calls)."""
        if self.best is not None and len(self.names) > 1:
            self.calls += 1
            if self.calls > self.recheck:
                self.times = {n: [] for n in self.names}
                self.best = None
                self.recheck *= 2
                _CHOOSING.add(self)
        name = self.next()
        if self.best is not None:
            return call(name)
        t0 = time.perf_counter()
        out = call(name)
        self.record(name, time.perf_counter() - t0)
        return out

    def __repr__(self):
        mins = {n: round(min(t) * 1e3, 3) for n, t in self.times.items() if t}
        return f"KernelChoice(best={self.best!r}, min_ms={mins})"
