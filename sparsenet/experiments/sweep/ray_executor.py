"""The Ray executor: each trial is a Ray task reserving `threads` CPUs, spread over the cluster's nodes.

The task runs the same trial process as the local executor (`sparsenet.experiments.sweep.trial`), so
a trial computes the same numbers on either executor. Trials write their run directories under the
sweep's ``--out``, which must be a path every node reaches (a shared file system, docs/sweeps.md);
the driver reads only those directories. A task whose worker or node dies is rerun by Ray
(`max_retries`); a trial that fails on its own is retried by the driver (``--retries``).
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

from ...errors import SparsenetError
from .local import usable_cpus

INSTALL = "pip install 'sparsenet[ray]'"
NODE_RETRIES = 3  # Ray reruns a task whose worker process or node died this many times
ENV_PASSED = ("PYTHONPATH", "SPARSENET_PLUGINS")
LOCAL_OBJECT_STORE = 200 * 1024 * 1024  # bytes, for the Ray instance a sweep starts here


class RayError(SparsenetError):
    """Ray is missing, or the cluster cannot be reached."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise RayError(f"--executor ray needs Ray, which is not installed: {INSTALL} (or run the sweep "
                       "with --executor local)") from None
    return ray


def check_address(address: str | None, timeout: float = 5.0) -> None:
    """Refuse, before any work, an --address nothing answers on (Ray itself would wait a long time)."""
    if address is None or address == "auto":
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise RayError(f"--address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, the address `ray start "
                       "--head` prints) or auto")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise RayError(f"cannot reach a Ray cluster at --address {address} ({reason}); start one there with "
                       "`ray start --head --port PORT`, check the host and port, or drop --address to "
                       "start Ray on this machine") from None


def _task(job: dict, log_path: str, threads: int) -> dict:
    import ray

    from .trial import run_blocking

    out = run_blocking(job, Path(log_path), threads=threads)
    out["node"] = ray.get_runtime_context().get_node_id()[:12]
    out["host"] = socket.gethostname()
    return out


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None, max_concurrent: int | None, threads: int, logs: Path):
        ray = self.ray = import_ray()
        check_address(address)
        env = {k: os.environ[k] for k in ENV_PASSED if os.environ.get(k)}
        kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False,
                      runtime_env={"env_vars": env} if env else None)
        try:
            if address is None:  # Ray would give its object store 30% of RAM; trials pass no objects
                ray.init(num_cpus=len(usable_cpus()), object_store_memory=LOCAL_OBJECT_STORE, **kwargs)
            else:
                ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as e:
            where = "a running Ray cluster on this machine (--address auto)" if address == "auto" else \
                f"the Ray cluster at {address}"
            raise RayError(f"cannot join {where}: {' '.join(str(e).split())[:300]}; start one with "
                           "`ray start --head`, or drop --address to start Ray here") from None
        self.threads, self.logs = threads, Path(logs)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        if threads > cpus:
            ray.shutdown()
            raise RayError(f"--threads-per-trial {threads} is more than the Ray cluster's {cpus} CPUs: no trial "
                           f"could ever start; use --threads-per-trial <= {cpus}")
        self.capacity = max_concurrent or 1_000_000  # without a limit Ray queues by CPUs
        self.remote = ray.remote(_task).options(num_cpus=threads, max_retries=NODE_RETRIES,
                                                retry_exceptions=False, scheduling_strategy="SPREAD")
        self.running: dict = {}  # ObjectRef -> handle
        self._next = 0

    def submit(self, job: dict) -> int:
        ref = self.remote.remote(job, str(self.logs / f"{job['id']}.log"), self.threads)
        handle, self._next = self._next, self._next + 1
        self.running[ref] = handle
        return handle

    def wait(self) -> list[tuple[int, dict]]:
        ready, _ = self.ray.wait(list(self.running), num_returns=1)
        out = []
        for ref in ready:
            handle = self.running.pop(ref)
            try:
                result = self.ray.get(ref)
            except Exception as e:  # the task's worker or node died more often than NODE_RETRIES
                result = {"status": "crashed", "error": f"{type(e).__name__}: {' '.join(str(e).split())[:300]}",
                          "returncode": None, "seconds": None, "node": None}
            out.append((handle, result))
        return out

    def close(self) -> None:
        for ref in list(self.running):
            try:
                self.ray.cancel(ref, force=True)
            except Exception:
                pass
        self.running.clear()
        self.ray.shutdown()
