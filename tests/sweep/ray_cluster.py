"""A real multi-node Ray cluster on this one machine, for tests: a head (`ray start --head`) and
worker nodes (`ray start --address HEAD`), each a separate raylet with its own CPUs, so a test can
check that work really spreads over nodes (which `ray.init()`'s single local node cannot show).

Why the care:
- every port a node would take by default (6379, 8265, 52365, ...) is chosen free at run time,
  and workers bind random ports, so two nodes (or two test runs) never collide;
- each `ray start` runs in a new session, and stopping kills every process of those sessions
  (gcs_server, raylets, agents, idle workers), never the global `ray stop`, which would also kill
  Ray clusters of other runs on the same machine;
- Ray's --temp-dir holds unix sockets (path limit 107 bytes), so it lives in a short directory
  under /tmp, not under pytest's long tmp_path; its logs are copied to `log_dir` when startup fails.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Iterator

import pytest

START_TIMEOUT_S = 180.0  # one `ray start` on a busy 2-core CI machine takes ~10 s; allow for load
OBJECT_STORE_BYTES = 80 * 1024 * 1024  # Ray's minimum is 75 MiB; the default (30% of RAM) per node is wasteful
SKIP_REASON = "ray is not installed (pip install 'sparsenet[ray]')"


def ray_executable() -> Path:
    """The `ray` CLI next to this interpreter (the venv's), so the nodes run the same Python."""
    return Path(sys.executable).parent / "ray"


def ray_available() -> bool:
    """Whether `import ray` would work here and the `ray` CLI of this environment exists."""
    try:
        spec = importlib.util.find_spec("ray")
    except (ImportError, ValueError):  # a stub in sys.modules (tests that hide Ray) has no spec
        return False
    return spec is not None and ray_executable().exists()


requires_ray = pytest.mark.skipif(not ray_available(), reason=SKIP_REASON)


class RayClusterError(RuntimeError):
    """The local test cluster did not come up; the message ends with the tail of Ray's logs."""


def free_ports(n: int) -> list[int]:
    """`n` distinct ports free right now (the kernel's choice; all held open until all are picked)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _node_args(head: bool, ports: list[int], temp_dir: Path, cpus: int) -> list[str]:
    """`ray start` flags for one node: its CPUs, a small object store, and its own ports."""
    names = ["--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
             "--dashboard-agent-grpc-port", "--metrics-export-port", "--runtime-env-agent-port"]
    if head:
        names += ["--port", "--dashboard-port"]  # the dashboard flag: the minimal head still binds it
    args = ["--num-cpus", str(cpus), "--object-store-memory", str(OBJECT_STORE_BYTES),
            "--temp-dir", str(temp_dir), "--disable-usage-stats", "--min-worker-port", "0",
            "--max-worker-port", "0", "--log-style", "record", "--log-color", "false"]
    for name, port in zip(names, ports):
        args += [name, str(port)]
    return args + (["--include-dashboard", "false"] if head else [])


def _session_pids(sids: set[int]) -> list[int]:
    """Live (not zombie) processes in the given sessions, except this one."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid pgrp session
        if fields[0] != "Z" and int(fields[3]) in sids:
            pids.append(int(entry))
    return pids


def kill_sessions(sids: set[int], grace_s: float = 3.0) -> list[int]:
    """SIGTERM every process of the sessions, SIGKILL what is left after `grace_s`; return the pids
    still alive after that (empty when all are gone). The grace is short on purpose: gcs_server,
    the raylets and their agents ignore SIGTERM for 8 s and more, and a test cluster keeps nothing."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        for pid in _session_pids(sids):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while _session_pids(sids) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _session_pids(sids):
            return []
    return _session_pids(sids)


def logs_tail(temp_dirs: list[Path], lines: int = 15) -> str:
    """The last lines of each non-empty Ray log (raylet, gcs_server, *.err) of these nodes."""
    out = []
    for d in temp_dirs:
        for log in sorted(d.glob("session_*/logs/*")):
            if log.is_file() and (log.suffix == ".err" or log.name in ("raylet.out", "gcs_server.out")):
                text = log.read_text(errors="replace").strip().splitlines()[-lines:]
                if text:
                    out.append(f"--- {log}\n" + "\n".join(text))
    return "\n".join(out) or "(no Ray logs were written)"


_COUNT_NODES = textwrap.dedent("""
    import json, sys, time, ray
    address, want, deadline = sys.argv[1], int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
    ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    while True:
        alive = [n for n in ray.nodes() if n["Alive"]]
        if len(alive) >= want or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    print(json.dumps({"alive": len(alive), "cpus": ray.cluster_resources().get("CPU", 0)}))
""")


def _wait_for_nodes(address: str, nodes: int, timeout_s: float) -> dict:
    """Connect a throw-away driver (its own process, so this one holds no Ray state) and poll until
    `nodes` nodes are alive; return {"alive": n, "cpus": c}."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    r = subprocess.run([sys.executable, "-c", _COUNT_NODES, address, str(nodes), str(timeout_s)],
                       capture_output=True, text=True, timeout=timeout_s + 60, env=env)
    if r.returncode != 0:
        raise RayClusterError(f"a driver could not connect to {address}: {r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _ray_start(args: list[str], log: Path, sids: set[int], timeout_s: float) -> None:
    """Run one `ray start` in a new session (recorded in `sids` before it can spawn anything, so
    stopping finds its daemons even if this fails); raise with its output when it fails."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    with open(log, "w") as out:
        proc = subprocess.Popen([str(ray_executable()), "start", *args], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        sids.add(proc.pid)
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            rc = None
    if rc != 0:
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-25:])
        what = f"timed out after {timeout_s:.0f} s" if rc is None else f"exited {rc}"
        raise RayClusterError(f"`ray start {' '.join(args[:2])} ...` {what}; its output ({log}):\n{tail}")


def _disconnect_driver() -> None:
    """A driver in this process still connected when the cluster dies would keep retrying the GCS
    (and Ray may end the process); disconnect it first."""
    ray = sys.modules.get("ray")
    if ray is not None and getattr(ray, "is_initialized", lambda: False)():
        ray.shutdown()


@contextlib.contextmanager
def local_ray_cluster(log_dir: Path | str, nodes: int = 2, cpus_per_node: int = 1,
                      timeout_s: float = START_TIMEOUT_S) -> Iterator[str]:
    """Start a head and `nodes - 1` worker nodes of `cpus_per_node` CPUs each, wait until `nodes`
    nodes are alive, and yield the head's address "127.0.0.1:PORT" (for `ray.init(address=...)`
    or `--address`). Everything started is stopped on exit, also when the body raises or startup
    fails halfway. `ray start` outputs go to `log_dir`, and Ray's logs too when startup fails.
    Processes started while the cluster is up inherit this process's environment (set
    PYTHONPATH / plugin variables before entering)."""
    if nodes < 1 or cpus_per_node < 1:
        raise ValueError(f"nodes={nodes} and cpus_per_node={cpus_per_node} must both be >= 1")
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    short = "/tmp" if os.path.isdir("/tmp") else None
    root = Path(tempfile.mkdtemp(prefix="snray-", dir=short))
    temp_dirs = [root / f"n{i}" for i in range(nodes)]
    sids: set[int] = set()
    try:
        try:
            address = _start(nodes, cpus_per_node, temp_dirs, log_dir, sids, timeout_s)
        except RayClusterError as e:
            shutil.copytree(root, log_dir / "ray-logs", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("sockets", "*.sock", "plasma*"))
            raise RayClusterError(f"{e}\nRay logs (copied to {log_dir / 'ray-logs'}):\n"
                                  f"{logs_tail(temp_dirs)}") from None
        yield address
    finally:
        body_failed = sys.exc_info()[0] is not None
        _disconnect_driver()
        left = kill_sessions(sids)
        shutil.rmtree(root, ignore_errors=True)
        if left and not body_failed:  # a leak is reported only when nothing else went wrong first
            raise RayClusterError(f"Ray processes {left} survived SIGKILL after the cluster stopped")


NODE_SESSIONS: dict[str, list[int]] = {}  # address -> each node's `ray start` session, head first


def kill_node(address: str, index: int) -> None:
    """Kill node `index` (1 = the first worker node) of the cluster at `address` with SIGKILL, as a
    machine that is lost would go: its raylet, its workers and whatever they started."""
    sid = NODE_SESSIONS[address][index]
    for pid in _session_pids({sid}):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _start(nodes: int, cpus: int, temp_dirs: list[Path], log_dir: Path, sids: set[int],
           timeout_s: float) -> str:
    """Start the head, then the worker nodes, then wait for all of them; return the address."""
    ports = free_ports(8 + 6 * (nodes - 1))
    address = f"127.0.0.1:{ports[6]}"  # the head's --port (its 7th port, see _node_args)
    deadline = time.monotonic() + timeout_s
    for i in range(nodes):
        node_ports = ports[:8] if i == 0 else ports[8 + 6 * (i - 1):8 + 6 * i]
        args = ["--head"] if i == 0 else ["--address", address]
        args += _node_args(i == 0, node_ports, temp_dirs[i], cpus)
        before = set(sids)
        _ray_start(args, log_dir / f"ray-start-{i}.log", sids, max(deadline - time.monotonic(), 1.0))
        NODE_SESSIONS.setdefault(address, []).extend(sorted(sids - before))
    state = _wait_for_nodes(address, nodes, max(deadline - time.monotonic(), 5.0))
    if state["alive"] < nodes or state["cpus"] < nodes * cpus:
        raise RayClusterError(f"{state['alive']} of {nodes} Ray nodes alive ({state['cpus']:g} of "
                              f"{nodes * cpus} CPUs) after {timeout_s:.0f} s")
    return address

__all__ = ["RayClusterError", "free_ports", "kill_node", "kill_sessions", "local_ray_cluster", "logs_tail",
           "ray_available", "ray_executable", "requires_ray"]
