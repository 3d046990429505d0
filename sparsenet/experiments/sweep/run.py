"""`run_sweep`: validate every trial, skip the finished ones, run the rest on an executor with retries,
then write the sweep's results.json and its aggregate report.

    OUT/<experiment>-<hash>/          each trial: an ordinary run directory (the same as by hand)
    OUT/sweep-<name>/config.json      the sweep's settings and spec
    OUT/sweep-<name>/journal.jsonl    every trial event (started, done, refused, crashed, kept)
    OUT/sweep-<name>/logs/<id>.log    each trial process's output, all attempts
    OUT/sweep-<name>/results.json     written at the end: the trials, their status and directories
    OUT/sweep-<name>/report.md, aggregate.json, accuracy_vs_remaining.png   (sparsenet report DIR)

Rerunning the same sweep continues it: a trial whose run directory holds results.json for the same
config is kept without running, an unfinished one is continued from its own checkpoints. A killed
driver (even by SIGKILL) loses at most the work in flight, and its trial processes die with it.
"""
from __future__ import annotations

import json
import os
import sys
from collections import deque
from pathlib import Path

from ... import io
from ...rundir import NOT_COMPARED, RunDirError, open_run
from .config import MAY_CHANGE, SweepConfig
from .journal import Journal
from .local import LocalExecutor, usable_cpus
from .spec import SweepSpec, sweep_dir, trials  # noqa: F401 (sweep_dir: the CLI)
from .trial import CRASHED, DONE, REFUSED, job


def plan_threads(cfg: SweepConfig) -> tuple[int, int | None]:
    """(threads per trial, trials at once) from the flags and this machine's CPUs."""
    cpus = len(usable_cpus())
    if cfg.executor == "ray":
        return cfg.threads_per_trial or 1, cfg.max_concurrent
    if cfg.threads_per_trial and cfg.max_concurrent:
        return cfg.threads_per_trial, cfg.max_concurrent
    if cfg.threads_per_trial:
        return cfg.threads_per_trial, max(1, cpus // cfg.threads_per_trial)
    if cfg.max_concurrent:
        return max(1, cpus // cfg.max_concurrent), cfg.max_concurrent
    return 1, cpus


def finished(trial) -> bool:
    """The trial's run directory holds results.json, written for this trial's config."""
    d = Path(trial.run_dir)
    if not (d / "results.json").is_file() or not (d / "config.json").is_file():
        return False
    try:
        old = io.read_json(d / "config.json").get("config", {})
    except (ValueError, AttributeError, OSError):
        return False
    return all(old.get(k) == v for k, v in trial.config.items() if k not in NOT_COMPARED)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(base)))
    except ValueError:
        return str(os.path.abspath(path))


def _executor(cfg: SweepConfig, threads: int, concurrent: int | None, logs: Path):
    if cfg.executor == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(cfg.address, concurrent, threads, logs)
    return LocalExecutor(concurrent or 1, threads, logs)


def _progress(cfg: SweepConfig, total: int, initial: int):
    if not (cfg.progress and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="trial", desc="sweep", file=sys.stderr)


def run_sweep(cfg: SweepConfig, spec: SweepSpec, *, command: str | None = None) -> dict:
    """Run (or continue) a sweep; returns the dict also written to its results.json."""
    threads, concurrent = plan_threads(cfg)
    todo = trials(cfg, spec, threads)  # every point is validated before anything runs
    if cfg.executor == "ray":  # Ray missing or an unreachable --address: refused before any work
        from .ray_executor import check_address, import_ray

        import_ray()
        check_address(cfg.address)
    elif cfg.address:
        raise RunDirError(f"--address {cfg.address} is for --executor ray; add --executor ray or drop --address")
    where = sweep_dir(cfg, spec)
    with open_run(where, cfg, "sweep", command=command, may_change=lambda k: k in MAY_CHANGE,
                  record={"spec": spec.to_dict()}):
        recorded = io.read_json(where / "config.json").get("spec")
        if recorded is not None and recorded != json.loads(json.dumps(spec.to_dict(), default=str)):
            raise RunDirError(f"sweep directory {where} holds a sweep with another grid or base; give the sweep "
                              "another name (or --run-dir), or rerun it with its own sweep file")
        journal = Journal(where / "journal.jsonl")
        attempts = journal.attempts()
        status: dict[str, dict] = {}
        queue = deque()
        for t in todo:
            if finished(t):
                status[t.id] = {"status": DONE, "error": None}
            else:
                queue.append(t)
        kept = len(todo) - len(queue)
        if kept:
            journal.append(trial="*", event="kept", count=kept)
        bar = _progress(cfg, len(todo), kept)
        executor = _executor(cfg, threads, concurrent, where / "logs") if queue else None
        running: dict[int, object] = {}
        this_run: dict[str, int] = {}
        try:
            while queue or running:
                while queue and len(running) < executor.capacity:
                    t = queue.popleft()
                    attempts[t.id] = attempts.get(t.id, 0) + 1
                    this_run[t.id] = this_run.get(t.id, 0) + 1
                    running[executor.submit(job(spec.experiment, t, attempt=attempts[t.id],
                                                trial_reports=cfg.trial_reports))] = t
                    journal.append(trial=t.id, event="started", attempt=attempts[t.id], executor=executor.name)
                for handle, result in executor.wait():
                    t = running.pop(handle)
                    if result["status"] == DONE and not (Path(t.run_dir) / "results.json").is_file():
                        result = {**result, "status": CRASHED,
                                  "error": f"the trial ended without writing {t.run_dir}/results.json"}
                    journal.append(trial=t.id, event=result["status"], attempt=attempts[t.id],
                                   error=result.get("error"), node=result.get("node"),
                                   seconds=result.get("seconds"))
                    if result["status"] == CRASHED and this_run[t.id] <= cfg.retries:
                        queue.append(t)  # retried after the others already queued
                        continue
                    status[t.id] = result
                    if bar is not None:
                        bar.update(1)
        finally:
            if executor is not None:
                executor.close()
            if bar is not None:
                bar.close()
        results = _results(cfg, spec, todo, status, attempts, journal, where, threads, concurrent)
        io.write_json(where / "results.json", results)
    from ...report import write_report

    write_report(where)
    return results


def _results(cfg, spec, todo, status, attempts, journal, where: Path, threads, concurrent) -> dict:
    nodes: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for e in journal.events():
        if e.get("event") == DONE:
            nodes[e["trial"]] = e.get("node")
            seconds[e["trial"]] = e.get("seconds")
    rows = []
    for t in todo:
        s = status.get(t.id, {"status": CRASHED, "error": "not run"})
        rows.append({"id": t.id, "point": t.point, "dir": _relative(t.run_dir, where.parent),
                     "status": DONE if s["status"] == DONE else "failed",
                     "failure": None if s["status"] == DONE else ("refused" if s["status"] == REFUSED else "crashed"),
                     "error": s.get("error"), "attempts": attempts.get(t.id, 0),
                     "node": nodes.get(t.id), "seconds": seconds.get(t.id)})
    done = sum(r["status"] == DONE for r in rows)
    return {"experiment": "sweep",
            "sweep": {"name": where.name, "experiment": spec.experiment, "axes": spec.axes,
                      "seed_keys": spec.seed_keys, "executor": cfg.executor, "threads_per_trial": threads,
                      "max_concurrent": concurrent, "retries": cfg.retries, "source": spec.source},
            "trials": rows, "summary": {"trials": len(rows), "done": done, "failed": len(rows) - done}}


__all__ = ["finished", "plan_threads", "run_sweep"]
