"""One trial in its own process: ``python -m sparsenet.experiments.sweep.trial`` reads a job (JSON on
stdin: the experiment, its full config) and runs it as the experiment's command would, in the trial's
own run directory.

A process per trial keeps trials apart: thread counts are set before torch and numba load, a trial
that crashes (even in native code) takes nothing else down, and its exit status says what happened:
0 done, 2 refused (a user error: retrying cannot help), anything else crashed (retried).
The parent (`start`) makes the child die with it (Linux: PR_SET_PDEATHSIG), so a driver killed by
SIGKILL leaves no trial running behind it; the kernel then releases the trial's run-directory lock.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DONE, REFUSED, CRASHED = "done", "refused", "crashed"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
LOCK_WAIT_S = 600.0  # a trial whose directory is still locked (its previous process ending) waits


def job(kind: str, trial, *, attempt: int, trial_reports: bool) -> dict:
    """What the trial process reads on stdin (JSON-safe, so a Ray task can carry it too)."""
    return {"experiment": kind, "id": trial.id, "config": trial.config, "run_dir": str(trial.run_dir),
            "attempt": attempt, "trial_reports": trial_reports}


def _child_setup(cpus: list[int] | None):
    def setup() -> None:
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            except OSError:
                pass
        if cpus and hasattr(os, "sched_setaffinity"):
            try:
                os.sched_setaffinity(0, cpus)
            except OSError:
                pass
    return setup


def start(job: dict, log_path: Path, *, threads: int, cpus: list[int] | None = None) -> subprocess.Popen:
    """Start the trial process; its output is appended to `log_path`."""
    env = dict(os.environ)
    env.update({v: str(threads) for v in THREAD_VARS})
    env["PYTHONUNBUFFERED"] = "1"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")
    log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} attempt {job.get('attempt', 1)} "
              f"({threads} threads{', cpus ' + ','.join(map(str, cpus)) if cpus else ''})\n".encode())
    log.flush()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "sparsenet.experiments.sweep.trial"],
                                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env,
                                preexec_fn=_child_setup(cpus), close_fds=True)
    finally:
        log.close()
    proc.stdin.write(json.dumps(job).encode())
    proc.stdin.close()
    proc.started = time.time()  # type: ignore[attr-defined]
    return proc


def outcome(proc: subprocess.Popen, log_path: Path) -> dict:
    """What an ended trial process did: status, the error's last line, seconds."""
    rc = proc.returncode
    seconds = time.time() - getattr(proc, "started", time.time())
    if rc == 0:
        return {"status": DONE, "error": None, "returncode": 0, "seconds": seconds}
    status = REFUSED if rc == 2 else CRASHED
    return {"status": status, "error": _last_error(log_path, rc), "returncode": rc, "seconds": seconds}


def run_blocking(job: dict, log_path: Path, *, threads: int) -> dict:
    """Run one trial process to its end (the Ray executor's task)."""
    proc = start(job, log_path, threads=threads)
    proc.wait()
    return outcome(proc, log_path)


def _last_error(log_path: Path, rc: int) -> str:
    try:
        lines = [ln.strip() for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    tail = lines[-1] if lines and not lines[-1].startswith("--- ") else ""
    if rc < 0:
        name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
        return f"killed by {name}" + (f" (last output: {tail})" if tail else "")
    return tail or f"exit status {rc}"


def _wait_unlocked(run_dir: Path, timeout: float = LOCK_WAIT_S) -> None:
    """Wait while another process holds the run directory's lock (e.g. a trial of a driver that was
    killed, still ending), so that this one continues its run instead of being refused."""
    import fcntl

    lock = run_dir / ".lock"
    if not lock.exists():
        return
    deadline = time.time() + timeout
    with open(lock, "a+") as f:
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
                return
            except OSError:
                if time.time() > deadline:
                    return  # the run itself then refuses in one line, naming the holder
                time.sleep(1.0)


def main() -> int:
    from ...errors import SparsenetError
    from ...rundir import describe_os_error

    spec = json.loads(sys.stdin.read())
    try:
        from ...config import config_from_dict
        from ..registry import experiment

        cls, run, _ = experiment(spec["experiment"])
        cfg = config_from_dict(cls, spec["config"], source="the sweep's trial config")
        _wait_unlocked(Path(spec["run_dir"]))
        run(cfg)
        if spec.get("trial_reports"):
            from ...report import REPORTS, write_report

            if (Path(spec["run_dir"]) / "results.json").is_file():
                kind = json.loads((Path(spec["run_dir"]) / "results.json").read_text()).get("experiment")
                if kind in REPORTS:
                    write_report(spec["run_dir"])
    except SparsenetError as e:
        print(f"sparsenet: error: {' '.join(str(e).split())}", flush=True)
        return 2
    except OSError as e:
        print(f"sparsenet: error: {' '.join(describe_os_error(e).split())}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
