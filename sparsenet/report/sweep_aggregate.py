"""Aggregate of a sweep directory: mean, sample std and n over seeds per grid point and metric.

Reads the sweep's results.json and the results.json of each finished trial, nothing else, so the
aggregate is rebuilt from files alone. Trials are grouped by their grid point without the seed
axes (``seed_keys``); every metric of a group is ``{"mean", "std", "n", "values"}`` with the
sample std (ddof = 1), None for a single seed (one value has no spread to estimate).

The aggregate holds no timings, nodes, attempts of finished trials or absolute paths, and every
list is sorted: an interrupted and resumed sweep aggregates exactly like one that ran straight
through. What a trial contributes depends on what its run directory is (its own results.json's
"experiment"): lottery tickets and controls per level, prune points per criterion, DST methods,
one train run, or the top-level numbers of any other run (tables only, no curve).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import SparsenetError
from ..io import read_json
from .runs import read_results

# y metrics drawn against % of weights remaining, in this order
CURVE_METRICS = ("test_accuracy", "early_stop_step")
# keys of a run's own numbers that measure the machine, not the method: they differ between two
# runs of the same trial, so they stay out of an aggregate that must not depend on how it ran
_NOT_RESULTS = ("second", "time", "wall", "rss", "date", "machine", "thread", "attempt")


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _key(v: Any) -> tuple:
    """Sort key for axis values of mixed types: numbers by value, then everything else as text."""
    return (0, v, "") if _num(v) else (1, 0, json.dumps(v, sort_keys=True))


def mean_std(values: list[float]) -> dict:
    """``{"mean", "std", "n"}``: the sample std sqrt(sum((v - mean)²) / (n - 1)), None when n < 2."""
    n = len(values)
    m = sum(values) / n
    std = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return {"mean": m, "std": std, "n": n}


# ------------------------------------------------------------------ what one trial measured
# An observation: (series, at, remaining %, {metric: value}). `series` names a line of the
# figure (a lottery kind, a prune criterion, a DST method; None for a whole run), `at` the
# point along it (level, target sparsity) that seeds share, `remaining` its % of weights.
Obs = tuple[Any, Any, Any, dict]


def _lottery(r: dict) -> Iterator[tuple[Any, Obs]]:
    for row in r.get("rows") or []:
        m = {k: float(row[k]) for k in ("test_accuracy", "early_stop_step", "early_stop_test_accuracy")
             if _num(row.get(k))}
        yield row.get("seed"), (row["kind"], f"level {row['level']}", 100 * row["density"], m)


def _prune(r: dict) -> Iterator[tuple[Any, Obs]]:
    dense = r.get("dense") or {}
    if _num(dense.get("accuracy")):
        yield None, ("dense", None, 100.0, {"test_accuracy": float(dense["accuracy"])})
    for p in r.get("points") or []:
        target = p.get("target_sparsity")
        target = p["sparsity"] if target is None else target
        m = {"test_accuracy": float(p["accuracy"])}
        m.update({k: float(p[k]) for k in ("accuracy_pruned", "sparsity", "output_change") if _num(p.get(k))})
        yield None, (p["criterion"], f"sparsity {100 * target:.4g}%", 100 * (1 - p["sparsity"]), m)


def _dst(r: dict) -> Iterator[tuple[Any, Obs]]:
    density = r.get("final_density")
    for t in r.get("trials") or []:
        m = {k: float(t[k]) for k in ("test_accuracy", "test_loss") if _num(t.get(k))}
        yield t.get("seed"), (t["method"], None, 100 * density if _num(density) else None, m)


def _train(r: dict) -> Iterator[tuple[Any, Obs]]:
    m = {k: float(r[k]) for k in ("test_accuracy", "test_loss", "live_weights", "total_weights") if _num(r.get(k))}
    live, total = r.get("live_weights"), r.get("total_weights")
    yield None, (None, None, 100 * live / total if _num(live) and _num(total) and total else None, m)


def scalars(r: dict) -> dict[str, float]:
    """Every top-level number of `r`, and those of its dicts one level down ("a.b"), timings left out."""
    out = {}
    for k, v in r.items():
        items = [(f"{k}.{k2}", v2) for k2, v2 in v.items()] if isinstance(v, dict) else [(k, v)]
        for name, x in items:
            if _num(x) and not any(w in name.lower() for w in _NOT_RESULTS):
                out[name] = float(x)
    return out


def _other(r: dict) -> Iterator[tuple[Any, Obs]]:
    yield None, (None, None, None, scalars(r))


EXTRACTORS: dict[str, Callable[[dict], Iterator[tuple[Any, Obs]]]] = {
    "lottery": _lottery, "prune": _prune, "prune-compare": _prune, "dst": _dst, "train": _train}
CURVED = set(EXTRACTORS)  # kinds whose trials sit on an accuracy vs % remaining axis


# ------------------------------------------------------------------ reading the sweep
def trial_dir(sweep_dir: Path, entry: str) -> Path | None:
    """The run directory a trial's "dir" names: absolute, else under the sweep's parent, else under
    the sweep itself (the first of those that exists); None when none does."""
    p = Path(entry)
    cands = [p] if p.is_absolute() else [sweep_dir.parent / p, sweep_dir / p]
    return next((c for c in cands if (c / "results.json").is_file()), next((c for c in cands if c.is_dir()), None))


def read_sweep(sweep_dir: str | Path) -> dict:
    """results.json of a sweep directory, checked for its "sweep" and "trials" entries."""
    sweep_dir = Path(sweep_dir)
    r = read_results(sweep_dir)
    if r["experiment"] != "sweep" or not isinstance(r.get("sweep"), dict) or not isinstance(r.get("trials"), list):
        raise SparsenetError(f"{sweep_dir / 'results.json'} is not a finished sweep (experiment "
                             f"{r['experiment']!r}, needs \"sweep\" and \"trials\"); run `sparsenet sweep` first")
    return r


def _trial_results(sweep_dir: Path, t: dict) -> tuple[dict | None, str]:
    d = trial_dir(sweep_dir, str(t["dir"])) if t.get("dir") else None
    if d is None:
        return None, "run directory not found"
    if not (d / "results.json").is_file():
        return None, "no results.json in its run directory"
    try:
        r = read_json(d / "results.json")
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return None, "results.json is not valid JSON"
    if not isinstance(r, dict):
        return None, "results.json is not an object"
    return r, ""


def _label(series: Any, point: dict, shown: list[str]) -> str:
    parts = [] if series is None else [str(series)]
    parts += [f"{k}={point[k]}" for k in shown if k in point]
    return ", ".join(parts) or "run"


def aggregate(sweep_dir: str | Path) -> dict:
    """The sweep's numbers over seeds, as a JSON-able dict (see the module docstring):

    ``{"name", "kind", "axes", "seed_keys", "trials": {"total", "done", "failed", "missing"},
    "groups": [{"point", "n", "seeds", "metrics": {name: {"mean", "std", "n", "values", "family",
    "series", "at", "remaining"}}}], "curves": [{"label", "metric", "series", "point",
    "points": [{"at", "remaining", "mean", "std", "n"}]}], "failed": [{"id", "point", "error",
    "attempts", "failure" (refused / crashed, when the driver says)}], "missing": [{"id", "point", "reason"}]}``.

    A metric's name is ``"series / at / family"`` (parts that do not apply left out); "remaining"
    is the mean % of weights remaining of its observations, None where it does not apply.
    """
    sweep_dir = Path(sweep_dir)
    r = read_sweep(sweep_dir)
    info = r["sweep"]
    kind = str(info.get("experiment", ""))
    axes = [str(a) for a in info.get("axes") or []]
    seed_keys = [str(a) for a in info.get("seed_keys") or []]
    trials = sorted(r["trials"], key=lambda t: str(t.get("id")))
    free = [a for a in axes if a not in seed_keys]
    # an axis in the label only where it varies: "ticket, lr=0.001" beside "ticket, lr=0.01"
    shown = [a for a in free if len({json.dumps((t.get("point") or {}).get(a), sort_keys=True) for t in trials}) > 1]

    failed, missing = [], []
    obs: dict[str, dict] = {}  # group id -> {"point", "seeds", "metrics": {name: record}}
    curved = False
    for t in trials:
        point = dict(t.get("point") or {})
        if t.get("status") == "failed":
            failed.append({"id": t.get("id"), "point": point, "error": t.get("error"), "attempts": t.get("attempts"),
                           **({"failure": t["failure"]} if t.get("failure") else {})})
            continue
        if t.get("status") != "done":
            missing.append({"id": t.get("id"), "point": point, "reason": f"status {t.get('status')!r}"})
            continue
        res, why = _trial_results(sweep_dir, t)
        if res is None:
            missing.append({"id": t.get("id"), "point": point, "reason": why})
            continue
        extract = EXTRACTORS.get(str(res.get("experiment")), _other)
        curved |= extract is not _other
        gpoint = {k: point[k] for k in sorted(point, key=lambda k: (axes.index(k) if k in axes else len(axes), k))
                  if k not in seed_keys}
        gid = json.dumps(gpoint, sort_keys=True)
        g = obs.setdefault(gid, {"point": gpoint, "seeds": {}, "metrics": {}})
        tseed = [point.get(k) for k in seed_keys]
        for inner, (series, at, remaining, values) in extract(res):
            seed = tseed + ([inner] if inner is not None and inner not in tseed else [])
            sid = json.dumps(seed)
            g["seeds"][sid] = seed
            for family, v in values.items():
                name = " / ".join(str(p) for p in (series, at, family) if p is not None)
                rec = g["metrics"].setdefault(name, {"family": family, "series": series, "at": at, "obs": []})
                rec["obs"].append((seed, str(t.get("id")), v, remaining))

    groups, curves = [], []
    ordered = sorted(obs.values(), key=lambda g: [_key(g["point"].get(a)) for a in free]
                     + [json.dumps(g["point"], sort_keys=True)])
    for gi, g in enumerate(ordered):
        metrics = {}
        for name in sorted(g["metrics"]):
            rec = g["metrics"][name]
            rows = sorted(rec["obs"], key=lambda o: ([_key(s) for s in o[0]], o[1]))
            values = [o[2] for o in rows]
            rem = [o[3] for o in rows if _num(o[3])]
            metrics[name] = {**mean_std(values), "values": values, "family": rec["family"], "series": rec["series"],
                             "at": rec["at"], "remaining": sum(rem) / len(rem) if rem else None}
        seeds = sorted(g["seeds"].values(), key=lambda s: [_key(x) for x in s])
        groups.append({"point": g["point"], "n": len(seeds), "seeds": seeds, "metrics": metrics})
        if curved:
            curves += [(gi, c) for c in _curves(g["point"], metrics, shown)]
    # by y metric, then line (kind, criterion, method), then grid point in the groups' order
    curves.sort(key=lambda e: (CURVE_METRICS.index(e[1]["metric"]), _key(e[1]["series"]), e[0]))
    return {"name": str(info.get("name", sweep_dir.name)), "kind": kind, "axes": axes, "seed_keys": seed_keys,
            "trials": {"total": len(trials), "done": len(trials) - len(failed) - len(missing),
                       "failed": len(failed), "missing": len(missing)},
            "groups": groups, "curves": [c for _, c in curves], "failed": failed, "missing": missing}


def _curves(point: dict, metrics: dict, shown: list[str]) -> list[dict]:
    """One curve per (series, y metric) of a group: its metrics with a % remaining, densest first.

    A prune run's dense accuracy, and a lottery run's level-0 ticket (the dense net every control
    starts from), are the 100% point of every other line of the same group, as in the papers."""
    out = []
    for metric in CURVE_METRICS:
        recs = [m for m in metrics.values() if m["family"] == metric and _num(m["remaining"])]
        dense = [m for m in recs if m["series"] == "dense" or (m["series"] == "ticket" and m["at"] == "level 0")]
        for series in sorted({m["series"] for m in recs if m["series"] != "dense"}, key=_key):
            mine = [m for m in recs if m["series"] == series]
            if series is not None and not any(m in mine for m in dense):
                mine = dense + mine
            pts = [{"at": m["at"], "remaining": m["remaining"], "mean": m["mean"], "std": m["std"], "n": m["n"]}
                   for m in mine]
            pts.sort(key=lambda p: (-p["remaining"], str(p["at"])))
            out.append({"label": _label(series, point, shown), "metric": metric, "series": series,
                        "point": point, "points": pts})
    return out


__all__ = ["CURVE_METRICS", "EXTRACTORS", "aggregate", "mean_std", "read_sweep", "scalars", "trial_dir"]
