"""The local executor: up to `max_concurrent` trial processes on this machine, each pinned to its own
`threads` cores (CPU affinity where the OS allows it; torch and numba thread counts always)."""
from __future__ import annotations

import os
import time
from pathlib import Path

from . import trial as trial_process


def usable_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


class LocalExecutor:
    name = "local"

    def __init__(self, max_concurrent: int, threads: int, logs: Path):
        self.capacity, self.threads, self.logs = max_concurrent, threads, Path(logs)
        cpus = usable_cpus()
        # slot i runs on cores [i*threads, (i+1)*threads) of the usable ones; more slots than cores
        # share them (affinity is then left alone)
        self.slots = {i: (cpus[i * threads:(i + 1) * threads] if (i + 1) * threads <= len(cpus) else None)
                      for i in range(max_concurrent)}
        self.free = list(range(max_concurrent))
        self.running: dict[int, tuple] = {}   # handle -> (process, slot, log path)
        self.node = os.uname().nodename if hasattr(os, "uname") else "localhost"
        self._next = 0

    def submit(self, job: dict) -> int:
        slot = self.free.pop(0)
        log = self.logs / f"{job['id']}.log"
        proc = trial_process.start(job, log, threads=self.threads, cpus=self.slots[slot])
        handle, self._next = self._next, self._next + 1
        self.running[handle] = (proc, slot, log)
        return handle

    def wait(self) -> list[tuple[int, dict]]:
        """Block until at least one trial ends; return (handle, outcome) of every ended one."""
        while True:
            ended = [(h, r) for h, r in self.running.items() if r[0].poll() is not None]
            if ended:
                out = []
                for h, (proc, slot, log) in ended:
                    del self.running[h]
                    self.free.append(slot)
                    out.append((h, {**trial_process.outcome(proc, log), "node": self.node}))
                return out
            time.sleep(0.1)

    def close(self) -> None:
        for proc, _, _ in self.running.values():
            if proc.poll() is None:
                proc.terminate()
        for proc, _, _ in self.running.values():
            try:
                proc.wait(timeout=30)
            except Exception:
                proc.kill()
        self.running.clear()
