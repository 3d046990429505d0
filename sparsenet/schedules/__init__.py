"""Schedules: WHEN to prune and to what sparsity.

* ``one-shot``   the target at one step;
* ``iterative``  n rounds, each removing the fraction ``rate`` of what survives:
  s_k = 1 - (1 - rate)^k, k = 1..n (or, given the target, rate = 1 - (1 - s_f)^{1/n}), one round
  every ``every`` steps from ``start`` — the last level is exactly the target;
* ``gradual``    Zhu & Gupta, "To prune, or not to prune: exploring the efficacy of pruning for
  model compression", 2017 (arXiv:1710.01878):
  s_t = s_f + (s_i - s_f) (1 - (t - t_0) / (t_end - t_0))³  for t in [t_0, t_end], pruning every
  ``every`` steps and always at ``t_end``.

Every schedule's last pruning step returns the target *as the same float*, so the final count
``round((1 - s_f) · n)`` is exactly the one-shot count, whatever ``every`` or the steps per epoch.
`keep_count` turns a sparsity into that count; counts never increase from one step to the next.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from ..errors import ConfigError
from ..masks.select import check_sparsity
from ..registry import Registry


def _int(v, what: str, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise ConfigError(f"{what} must be an integer >= {low}, got {v!r}")
    return int(v)


@dataclass(frozen=True)
class Schedule:
    """Base: `sparsity_at(step)` and the steps at which pruning happens."""

    target: float

    def steps(self) -> list[int]:  # pragma: no cover - overridden
        raise NotImplementedError

    def sparsity_at(self, step: int) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def levels(self) -> list[tuple[int, float]]:
        """``[(step, sparsity)]`` at every pruning step, the last one exactly the target."""
        return [(t, self.sparsity_at(t)) for t in self.steps()]


@dataclass(frozen=True)
class OneShot(Schedule):
    at: int = 0

    def steps(self) -> list[int]:
        return [self.at]

    def sparsity_at(self, step: int) -> float:
        return self.target if step >= self.at else 0.0


@dataclass(frozen=True)
class Iterative(Schedule):
    rounds: int = 5
    every: int = 1
    start: int = 0

    @property
    def rate(self) -> float:
        return 1.0 - (1.0 - self.target) ** (1.0 / self.rounds)

    def steps(self) -> list[int]:
        return [self.start + k * self.every for k in range(self.rounds)]

    def sparsity_at(self, step: int) -> float:
        if step < self.start:
            return 0.0
        k = min(self.rounds, (step - self.start) // self.every + 1)
        return self.target if k == self.rounds else 1.0 - (1.0 - self.rate) ** k


@dataclass(frozen=True)
class Gradual(Schedule):
    start: int = 0
    end: int = 1000
    every: int = 100
    initial: float = 0.0
    power: int = 3

    def steps(self) -> list[int]:
        out = list(range(self.start, self.end, self.every))
        return out + [self.end]

    def sparsity_at(self, step: int) -> float:
        if step < self.start:
            return 0.0
        if step >= self.end:
            return self.target
        frac = (step - self.start) / (self.end - self.start)
        return self.target + (self.initial - self.target) * (1.0 - frac) ** self.power


def one_shot(target: float, *, at: int = 0) -> OneShot:
    """Prune to sparsity `target` once, at step `at` (default: before training)."""
    return OneShot(check_sparsity(target), _int(at, "at", 0))


def iterative(target: float | None = None, *, rounds: int = 5, rate: float | None = None,
              every: int = 1, start: int = 0) -> Iterative:
    """n `rounds` reaching `target`, or removing `rate` of the survivors per round."""
    rounds = _int(rounds, "rounds", 1)
    if (target is None) == (rate is None):
        raise ConfigError("iterative schedule needs exactly one of target= (final sparsity) or rate= (per round)")
    if rate is not None:
        rate = check_sparsity(rate, "rate")
        target = 1.0 - (1.0 - rate) ** rounds
    return Iterative(check_sparsity(target), rounds, _int(every, "every", 1), _int(start, "start", 0))


def gradual(target: float, *, start: int = 0, end: int = 1000, every: int = 100, initial: float = 0.0,
            power: int = 3) -> Gradual:
    """Zhu & Gupta's polynomial (cubic by default) ramp from `initial` to `target`."""
    target, initial = check_sparsity(target), check_sparsity(initial, "initial")
    start, end, every = _int(start, "start", 0), _int(end, "end", 0), _int(every, "every", 1)
    if end <= start:
        raise ConfigError(f"gradual schedule needs end > start, got start={start}, end={end}")
    if initial > target:
        raise ConfigError(f"initial sparsity {initial} must not exceed the target {target}")
    return Gradual(target, start, end, every, initial, _int(power, "power", 1))


SCHEDULES: Registry = Registry("schedule")
SCHEDULES.register("one-shot", one_shot)
SCHEDULES.register("iterative", iterative)
SCHEDULES.register("gradual", gradual)


def make_schedule(name: str, target: float, **kwargs) -> Schedule:
    """Build the schedule called `name` (``one-shot``, ``iterative``, ``gradual``)."""
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ConfigError(f"unknown schedule {name!r}; valid schedules: {', '.join(SCHEDULES.names())}")
    try:
        return SCHEDULES.get(name)(target, **kwargs)
    except TypeError as e:
        raise ConfigError(f"schedule {name!r}: {e}") from None


def keep_count(sparsity: float, n: int) -> int:
    """Weights kept out of `n` at `sparsity`: ``round((1 - s) · n)`` (as in `sparsenet.masks`)."""
    return int(round((1.0 - check_sparsity(sparsity)) * n))


__all__ = ["Gradual", "Iterative", "OneShot", "SCHEDULES", "Schedule", "gradual", "iterative", "keep_count",
           "make_schedule", "one_shot"]
