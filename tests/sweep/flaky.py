"""A test experiment, "flaky", registered through $SPARSENET_PLUGINS so that sweep trial processes
(and Ray workers) know it: each run computes a small seeded number with torch, appends a line to
`work.txt` in its run directory every time it really computes (so a test can count reruns), records
the threads and CPUs it was given, and fails on request:

- fail = "always": raises RuntimeError every attempt; "once": raises on the first attempt only;
- fail = "exit": the process dies (os._exit(3)), as a native crash would;
- fail = "refuse": a user error (ConfigError), which a sweep does not retry.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from sparsenet import io
from sparsenet.config import non_negative, option
from sparsenet.errors import ConfigError
from sparsenet.experiments.registry import EXPERIMENTS
from sparsenet.rundir import open_run, resolve


@dataclass(frozen=True)
class FlakyConfig:
    seed: int = option(0, help="seed")
    scale: float = option(1.0, help="a second axis")
    fail: str = option("none", help="failure mode", choices=("none", "always", "once", "exit", "refuse"))
    sleep: float = option(0.0, help="seconds of work", check=non_negative)
    threads: int = option(0, help="threads")
    out: str = option("runs", help="parent directory")
    run_dir: str | None = option(None, help="run directory")
    resume: bool = option(False, help="resume")
    progress: bool = option(True, help="progress")


def resolve_run_dir(cfg: FlakyConfig) -> Path:
    return resolve(cfg, "flaky")


def run_flaky(cfg: FlakyConfig) -> dict:
    import torch

    with open_run(resolve_run_dir(cfg), cfg, "flaky") as rd:
        if rd.finished:
            return io.read_json(rd.path / "results.json")
        with open(rd.path / "work.txt", "a") as f:
            f.write(f"{os.getpid()}\n")
        attempts = sum(1 for _ in open(rd.path / "work.txt"))
        if cfg.fail == "refuse":
            raise ConfigError(f"flaky refuses seed {cfg.seed}")
        if cfg.fail == "always" or (cfg.fail == "once" and attempts == 1):
            raise RuntimeError(f"flaky trial seed {cfg.seed} failed on attempt {attempts}")
        if cfg.fail == "exit":
            os._exit(3)
        time.sleep(cfg.sleep)
        g = torch.Generator().manual_seed(cfg.seed)
        value = float(torch.randn(64, generator=g).abs().mean()) * cfg.scale
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        results = {"experiment": "flaky", "value": value, "accuracy": min(1.0, value),
                   "omp_threads": os.environ.get("OMP_NUM_THREADS"),
                   "numba_threads": os.environ.get("NUMBA_NUM_THREADS"), "cpus": cpus}
        io.write_json(rd.path / "results.json", results)
    return results


def experiment():
    return FlakyConfig, run_flaky, resolve_run_dir


if "flaky" not in EXPERIMENTS._items:  # imported once per process; the guard keeps a re-import harmless
    EXPERIMENTS.register("flaky", experiment)
