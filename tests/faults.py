"""Run the sparsenet CLI in this process with a fault injected: the tests' hook for killed runs.

    python tests/faults.py kill-at-step N -- train ...       SIGKILL once a phase logs step >= N
    python tests/faults.py kill-before-level L -- lottery ...  SIGKILL when level L's first artifact starts
    python tests/faults.py hold-lock SECONDS -- train ...    sleep SECONDS inside the run (lock held)
    python tests/faults.py kill-in-update N -- dst ...       SIGKILL inside the N-th CSR rewiring
                                                             (the update's earlier layers already rewired)

The library reads no environment variable for this: the hook patches it from the outside, as a
test's monkeypatch would, in the child process the test starts.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def kill_at_step(n: int) -> None:
    from sparsenet.train.context import RunContext

    log = RunContext.log

    def log_then_kill(self, record):
        log(self, record)
        if record.get("event") == "train" and record.get("step", 0) >= n:
            os.kill(os.getpid(), signal.SIGKILL)

    RunContext.log = log_then_kill


def kill_before_level(level: int) -> None:
    from sparsenet.experiments.lottery import run as lottery

    train = lottery._train_artifact

    def kill_or_train(*args, **kw):
        if kw["level"] >= level:
            os.kill(os.getpid(), signal.SIGKILL)
        return train(*args, **kw)

    lottery._train_artifact = kill_or_train


def hold_lock(seconds: float) -> None:
    """Sleep at the first metrics line: the run directory is locked and the run is under way."""
    from sparsenet.train.context import RunContext

    log = RunContext.log
    slept = []

    def log_and_wait(self, record):
        log(self, record)
        if not slept:
            slept.append(True)
            print("holding", flush=True)
            time.sleep(seconds)

    RunContext.log = log_and_wait


def kill_in_update(n: int) -> None:
    from sparsenet.nn.csr_view import CSRWeight

    rewire, calls = CSRWeight.rewire_, []

    def rewire_or_kill(self, *args, **kw):
        calls.append(1)
        if len(calls) == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return rewire(self, *args, **kw)

    CSRWeight.rewire_ = rewire_or_kill


FAULTS = {"kill-in-update": lambda v: kill_in_update(int(v)), "kill-at-step": lambda v: kill_at_step(int(v)), "kill-before-level": lambda v: kill_before_level(int(v)),
          "hold-lock": lambda v: hold_lock(float(v))}


if __name__ == "__main__":
    fault, value, sep, *argv = sys.argv[1:]
    assert sep == "--", "usage: faults.py FAULT VALUE -- COMMAND ARGS..."
    FAULTS[fault](value)
    from sparsenet.cli import main

    sys.exit(main(argv))
