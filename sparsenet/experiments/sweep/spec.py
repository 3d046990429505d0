"""The sweep file: which experiment, the keys every trial shares, and the points to run.

    [sweep]                        # how it runs (SweepConfig); `experiment` is required
    experiment = "lottery"
    name = "lottery-quick"         # the sweep directory: OUT/sweep-lottery-quick
    [base]                         # keys of the experiment shared by every trial
    config = "lottery-quick.toml"  # optional: start from a recipe (relative to this file)
    levels = 3
    [grid]                         # every combination of these lists (first key slowest)
    seed = [0, 1, 2]
    rate = [0.2, 0.4]
    [[points]]                     # optional: explicit points, crossed with the grid
    criterion = "large_final"
    [random]                       # optional: `samples` random points, crossed with the grid
    samples = 4
    seed = 0                       # the draw's seed (the trials' seeds are a [grid] axis)
    lr = {low = 1e-4, high = 1e-2, log = true}    # uniform (log = true: log-uniform), int = true
    optimizer = ["sgd", "adam"]                   # a list: one of its values

Each point becomes one trial: the experiment's config built from base + point (validated exactly as
that command validates its flags), whose run directory is the one the command would use with the
same keys and ``--out``: a trial run by hand is the same directory as in the sweep.
"""
from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...config import config_to_dict, load_toml
from ...config.convert import _apply, _construct, _resolve
from ...config.declare import _options
from ...config.toml_io import _select, section_name
from ...errors import ConfigError, SparsenetError
from ..registry import experiment, experiment_kinds
from .config import SweepConfig

TABLES = ("sweep", "base", "grid", "points", "random")
# Keys a sweep sets for every trial: where it goes and that it runs unattended.
FORCED = ("out", "run_dir", "resume", "progress")
SEED_KEYS = ("seed", "seeds")


@dataclass(frozen=True)
class Trial:
    """One point of a sweep: its run directory's name (`id`), the varied keys (`point`), the full
    config of its experiment (JSON-safe) and its run directory."""

    id: str
    point: dict
    config: dict
    run_dir: Path


@dataclass(frozen=True)
class SweepSpec:
    experiment: str
    base: dict                 # the shared keys (recipe + [base]), as written
    grid: dict                 # key -> list of values
    points: tuple              # explicit points (dicts)
    random: dict               # the [random] table, as written
    source: str = "sweep file"

    @property
    def axes(self) -> list[str]:
        keys = list(self.grid) + [k for p in self.points for k in p]
        keys += [k for k in self.random if k not in ("samples", "seed")]
        return list(dict.fromkeys(keys))

    @property
    def seed_keys(self) -> list[str]:
        return [k for k in self.axes if k in SEED_KEYS]

    def digest(self) -> str:
        """8 hex digits naming what the sweep computes."""
        text = json.dumps({"experiment": self.experiment, "base": self.base, "grid": self.grid,
                           "points": list(self.points), "random": self.random},
                          sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]

    def to_dict(self) -> dict:
        return {"experiment": self.experiment, "base": self.base, "grid": self.grid,
                "points": list(self.points), "random": self.random}

    def expand(self) -> list[dict]:
        """Every point: the grid's product, crossed with the explicit points and the random draws."""
        grid = [dict(zip(self.grid, combo)) for combo in itertools.product(*self.grid.values())]
        extra = list(self.points) or [{}]
        draws = _draw(self.random, self.source) if self.random else [{}]
        return [{**g, **e, **d} for g in grid for e in extra for d in draws]


def _draw(table: dict, source: str) -> list[dict]:
    samples = table.get("samples")
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise ConfigError(f"[random] samples = {samples!r} in {source}: give the number of random points, "
                          "an integer >= 1")
    rng = random.Random(table.get("seed", 0))
    out = []
    for _ in range(samples):
        point = {}
        for key, dist in table.items():
            if key in ("samples", "seed"):
                continue
            point[key] = _sample(rng, key, dist, source)
        out.append(point)
    return out


def _sample(rng: random.Random, key: str, dist: Any, source: str) -> Any:
    if isinstance(dist, list):
        if not dist:
            raise ConfigError(f"[random] {key} = [] in {source}: give the values to choose from")
        return dist[rng.randrange(len(dist))]
    if not isinstance(dist, dict) or set(dist) - {"low", "high", "log", "int"} or not {"low", "high"} <= set(dist):
        raise ConfigError(f"[random] {key} = {dist!r} in {source}: give a list of values or "
                          "{low = A, high = B} (optionally log = true, int = true)")
    lo, hi, log, as_int = dist["low"], dist["high"], bool(dist.get("log")), bool(dist.get("int"))
    if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float))) or not lo < hi or (log and lo <= 0):
        raise ConfigError(f"[random] {key}: low {lo!r} and high {hi!r} in {source} need low < high"
                          + (" and low > 0 (log = true)" if log else ""))
    if as_int:
        if log:
            return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))
        return rng.randint(int(lo), int(hi))
    return math.exp(rng.uniform(math.log(lo), math.log(hi))) if log else rng.uniform(lo, hi)


def _check_keys(cls, keys, where: str, kind: str, source: str) -> None:
    valid = [o.name for o in _options(cls) if o.name not in FORCED]
    for key in keys:
        if key in FORCED:
            raise ConfigError(f"{where} {key} in {source}: the sweep sets {key} for every trial "
                              f"({'use `sparsenet sweep --out DIR`' if key == 'out' else 'leave it out'})")
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown key {key!r} in {where} of {source} for experiment {kind}{hint}; "
                              f"valid keys: {', '.join(valid)}")


def _read_base(table: dict, kind: str, cls, path: Path) -> dict:
    """The recipe named by `config` (if any), overridden by the table's other keys."""
    base: dict = {}
    recipe = table.get("config")
    if recipe is not None:
        where = Path(recipe)
        if not where.is_absolute() and not where.exists() and (path.parent / where).exists():
            where = path.parent / where
        base.update(_select(load_toml(where), section_name(cls), str(where)))
    base.update({k: v for k, v in table.items() if k != "config"})
    return base


def load_sweep(path, flags=None) -> tuple[SweepConfig, SweepSpec]:
    """Read the sweep file at `path`: its settings (``[sweep]``, overridden by the flags given in the
    `flags` namespace) and its spec. Every error is one line naming the file and the key."""
    path = Path(path)
    data = load_toml(path)
    src = str(path)
    unknown = [k for k in data if k not in TABLES]
    if unknown:
        close = difflib.get_close_matches(unknown[0], TABLES, n=1)
        hint = f" (did you mean [{close[0]}]?)" if close else ""
        raise ConfigError(f"unknown table or key {unknown[0]!r} at the top of {src}{hint}; a sweep file has "
                          "the tables [sweep], [base], [grid], [[points]] and [random]")
    for name in ("sweep", "base", "grid", "random"):
        if name in data and not isinstance(data[name], dict):
            raise ConfigError(f"{name} in {src} must be a table [{name}]")
    points = data.get("points", [])
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise ConfigError(f"points in {src} must be an array of tables: [[points]] blocks")
    values: dict = {}
    _apply(SweepConfig, data.get("sweep", {}), src, values, "sweep")
    given = vars(flags) if flags is not None else {}
    for o in _options(SweepConfig):
        if o.meta.cli and o.name in given:
            values[o.name] = _resolve(o, given[o.name], cli=True)
    cfg = _construct(SweepConfig, values)
    kind = cfg.experiment
    if not kind:
        raise ConfigError(f"{src} names no experiment: set experiment = \"lottery\" (or another) under [sweep]; "
                          f"valid experiments: {', '.join(experiment_kinds())}")
    if kind not in experiment_kinds():
        close = difflib.get_close_matches(kind, experiment_kinds(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown experiment {kind!r} in {src}{hint}; valid experiments: "
                          f"{', '.join(experiment_kinds())}")
    cls = experiment(kind)[0]
    grid = data.get("grid", {})
    for key, vals in grid.items():
        if not isinstance(vals, list):
            raise ConfigError(f"[grid] {key} = {vals!r} in {src}: a grid axis is a list of values, e.g. "
                              f"{key} = [{vals!r}] (a value shared by every trial goes under [base])")
        if not vals:
            raise ConfigError(f"[grid] {key} = [] in {src} leaves the sweep empty: give at least one value")
    rnd = data.get("random", {})
    if not grid and not points and not rnd:
        raise ConfigError(f"{src} has no trials: give [grid] lists of values, [[points]] or [random] "
                          "(e.g. [grid] seed = [0, 1, 2])")
    base = _read_base(data.get("base", {}), kind, cls, path)
    _check_keys(cls, base, "[base]", kind, src)
    _check_keys(cls, grid, "[grid]", kind, src)
    for p in points:
        _check_keys(cls, p, "[[points]]", kind, src)
    _check_keys(cls, [k for k in rnd if k not in ("samples", "seed")], "[random]", kind, src)
    both = [k for k in grid if any(k in p for p in points)]
    if both:
        raise ConfigError(f"{both[0]} is both a [grid] axis and a [[points]] key in {src}; give it in one place")
    spec = SweepSpec(kind, base, dict(grid), tuple(points), dict(rnd), src)
    return cfg, spec


def sweep_dir(cfg: SweepConfig, spec: SweepSpec) -> Path:
    if cfg.run_dir:
        return Path(cfg.run_dir)
    name = cfg.name or f"{spec.experiment}-{spec.digest()}"
    return Path(cfg.out) / f"sweep-{name}"


def _show(point: dict) -> str:
    return "{" + ", ".join(f"{k}={v!r}" for k, v in point.items()) + "}"


def trials(cfg: SweepConfig, spec: SweepSpec, threads: int) -> list[Trial]:
    """Build and validate every trial before any runs: all bad points are named in one error, and
    two points that are the same run are refused."""
    cls, _, resolve_run_dir = experiment(spec.experiment)
    names = {o.name for o in _options(cls)}
    forced = {"out": os.path.abspath(cfg.out), "run_dir": None, "resume": True, "progress": False}
    forced = {k: v for k, v in forced.items() if k in names}
    if "report" in names:
        forced["report"] = cfg.trial_reports
    out, bad, seen = [], [], {}
    for point in spec.expand():
        values: dict = {}
        try:
            _apply(cls, spec.base, spec.source, values)
            _apply(cls, point, spec.source, values)
            if "threads" in names and "threads" not in point and "threads" not in spec.base:
                values["threads"] = threads
            _apply(cls, forced, None, values)
            trial_cfg = _construct(cls, values)
        except SparsenetError as e:
            bad.append(f"{_show(point)}: {' '.join(str(e).split())}")
            continue
        run_dir = Path(resolve_run_dir(trial_cfg))
        if run_dir.name in seen:
            raise ConfigError(f"points {_show(seen[run_dir.name])} and {_show(point)} in {spec.source} are the "
                              f"same trial ({run_dir.name}): they differ only in keys that do not change what "
                              "a run computes (threads, device, execution ...); drop the repeat")
        seen[run_dir.name] = point
        out.append(Trial(run_dir.name, point, config_to_dict(trial_cfg), run_dir))
    if bad:
        raise ConfigError(f"{len(bad)} of {len(bad) + len(out)} points in {spec.source} are invalid, nothing "
                          f"was run: " + "; ".join(bad))
    return out


__all__ = ["SEED_KEYS", "SweepSpec", "Trial", "load_sweep", "sweep_dir", "trials"]
