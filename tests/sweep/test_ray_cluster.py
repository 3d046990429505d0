"""The test cluster of tests/sweep/ray_cluster.py is what the Ray sweep tests rely on: two real
nodes (separate raylets) that SPREAD tasks both land on, and nothing of it left running after the
`with` block, also when the block raises."""
import os
import subprocess

import pytest

from tests.sweep.ray_cluster import local_ray_cluster, requires_ray

pytestmark = requires_ray


def _ray_processes() -> list[tuple[int, int, str]]:
    """(pid, session id, command line) of every live Ray daemon or worker here (zombies excluded); -ww: full
    command lines whatever $COLUMNS says."""
    ps = subprocess.run(["ps", "-ww", "-eo", "pid=,sid=,stat=,args="], capture_output=True, text=True, check=True).stdout
    names = ("gcs_server", "raylet", "ray::", "site-packages/ray/")
    rows = [line.split(None, 3) for line in ps.splitlines() if line.strip()]
    return [(int(pid), int(sid), args) for pid, sid, stat, args in rows
            if not stat.startswith("Z") and int(pid) != os.getpid() and any(n in args for n in names)]


def _sessions_of_cluster(port: str) -> set[int]:
    """The sessions of the processes that name this cluster's GCS port (its gcs_server and every
    node's raylet): each `ray start` runs in its own session, so these are all of its processes."""
    return {sid for _, sid, args in _ray_processes() if f":{port} " in args + " " or f"={port} " in args + " "}


def test_two_nodes_run_spread_tasks_and_nothing_is_left_after(tmp_path):
    import ray

    with pytest.raises(KeyError, match="body failed"):
        with local_ray_cluster(tmp_path / "ray", nodes=2, cpus_per_node=1) as address:
            host, port = address.rsplit(":", 1)
            assert host == "127.0.0.1" and port.isdigit()
            ray.init(address=address, log_to_driver=False)
            alive = [n for n in ray.nodes() if n["Alive"]]
            assert len(alive) == 2 and all(n["Resources"]["CPU"] == 1 for n in alive)

            @ray.remote(num_cpus=1)
            def node_of_this_task():
                import time

                time.sleep(1.0)  # both tasks hold their node's one CPU at once
                return ray.get_runtime_context().get_node_id()

            nodes = ray.get([node_of_this_task.options(scheduling_strategy="SPREAD").remote() for _ in range(2)])
            assert set(nodes) == {n["NodeID"] for n in alive}
            ours = _sessions_of_cluster(port)
            assert len(ours) == 2  # the head's and the second node's `ray start` sessions
            assert sum(sid in ours for _, sid, args in _ray_processes() if "raylet" in args) == 2
            raise KeyError("body failed")  # the cluster must still be stopped
    assert not ray.is_initialized()
    left = [p for p in _ray_processes() if p[1] in ours]  # another run's cluster here is not ours to count
    assert not left, f"Ray processes survived the cluster: {left}"
    assert (tmp_path / "ray" / "ray-start-0.log").exists() and (tmp_path / "ray" / "ray-start-1.log").exists()
