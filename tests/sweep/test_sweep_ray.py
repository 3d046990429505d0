"""`sparsenet sweep --executor ray`: the same trials give the same numbers as the local executor, a
real two-node Ray cluster (a head and a second `ray start --address` node, both on this machine) runs
trials on both nodes, and a cluster that cannot be reached is one line before any work.
CI installs the `ray` extra (scripts/setup.sh); without Ray these tests skip."""
import json
import os
import threading
import time
from pathlib import Path

import pytest

import tests.sweep.flaky  # noqa: F401  (registers the "flaky" experiment in this process)
from sparsenet.cli import main
from tests.sweep.ray_cluster import local_ray_cluster, requires_ray

pytestmark = requires_ray
REPO = Path(__file__).resolve().parents[2]

LOTTERY = """
[sweep]
experiment = "lottery"
name = "same"
[base]
dataset = "synthetic"
model = "mlp"
spec = "64-32-10"
steps = 80
eval_every = 40
n_val = 200
batch_size = 32
levels = 2
rate = 0.5
controls = ["reinit"]
execution = "masked"  # auto would time csr against masked first
n_train = 600
[grid]
seed = [0, 1]
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One real two-node cluster for the tests below (the last one kills its second node); trial
    processes find the test experiment through $SPARSENET_PLUGINS."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPARSENET_PLUGINS", "tests.sweep.flaky")
        mp.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with local_ray_cluster(tmp_path_factory.mktemp("ray"), nodes=2, cpus_per_node=1) as address:
            yield address


def _results(path: Path) -> dict:
    return json.loads(path.read_text())


def _numbers(results: dict) -> dict:
    """A lottery trial's numbers without its timings."""
    out = {}
    for level in results["summary"]["levels"]:
        for kind, v in level["kinds"].items():
            out[(level["level"], kind)] = v["test_accuracy"]
    return out


def test_local_and_ray_executors_give_identical_trials(tmp_path):
    path = tmp_path / "same.toml"
    path.write_text(LOTTERY)
    local, ray = tmp_path / "local", tmp_path / "ray"
    assert main(["sweep", "--config", str(path), "--out", str(local), "--no-progress"]) == 0
    assert main(["sweep", "--config", str(path), "--out", str(ray), "--executor", "ray", "--no-progress"]) == 0
    a, b = _results(local / "sweep-same" / "results.json"), _results(ray / "sweep-same" / "results.json")
    assert [t["id"] for t in a["trials"]] == [t["id"] for t in b["trials"]]
    assert b["sweep"]["executor"] == "ray" and all(t["node"] for t in b["trials"])
    for t in a["trials"]:
        mine, theirs = _results(local / t["dir"] / "results.json"), _results(ray / t["dir"] / "results.json")
        assert _numbers(mine) == _numbers(theirs) and len(_numbers(mine)) == 5
    agg_a = _results(local / "sweep-same" / "aggregate.json")
    agg_b = _results(ray / "sweep-same" / "aggregate.json")
    assert agg_a == agg_b


def test_a_two_node_cluster_runs_trials_on_both_nodes(tmp_path, cluster):
    path = tmp_path / "two.toml"
    path.write_text('[sweep]\nexperiment = "flaky"\nname = "two"\n[base]\nsleep = 2.0\n'
                    "[grid]\nseed = [0, 1, 2, 3]\n")
    out = tmp_path / "runs"
    rc = main(["sweep", "--config", str(path), "--out", str(out), "--executor", "ray",
               "--address", cluster, "--threads-per-trial", "1", "--no-progress"])
    assert rc == 0
    r = _results(out / "sweep-two" / "results.json")
    assert r["summary"] == {"trials": 4, "done": 4, "failed": 0}
    assert len({t["node"] for t in r["trials"]}) == 2  # trials landed on both nodes
    for t in r["trials"]:
        assert _results(out / t["dir"] / "results.json")["omp_threads"] == "1"


@pytest.mark.parametrize("address, needle", [
    ("127.0.0.1:1", "cannot reach a Ray cluster at --address 127.0.0.1:1"),  # nothing listens: Ray would retry ~14 min
    ("headnode", "--address 'headnode' is not HOST:PORT"),
])
def test_a_bad_address_is_one_line_before_any_work(tmp_path, capsys, address, needle):
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nexperiment = "flaky"\n[grid]\nseed = [0]\n')
    rc = main(["sweep", "--config", str(path), "--out", str(tmp_path / "runs"), "--executor", "ray",
               "--address", address])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("sparsenet: error:")
    assert needle in err
    assert not (tmp_path / "runs").exists()


def test_a_lost_worker_node_only_delays_its_trials(tmp_path, cluster):
    from tests.sweep.ray_cluster import kill_node

    path = tmp_path / "lost.toml"
    path.write_text('[sweep]\nexperiment = "flaky"\nname = "lost"\nretries = 0\n[base]\nsleep = 8.0\n'
                    "[grid]\nseed = [0, 1]\n")
    out = tmp_path / "runs"

    def kill_when_both_run():
        deadline = time.time() + 120
        while time.time() < deadline:
            if len(list(out.glob("flaky-*/work.txt"))) == 2:
                time.sleep(1.0)
                kill_node(cluster, 1)  # the second node dies with a trial on it
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_when_both_run, daemon=True)
    killer.start()
    rc = main(["sweep", "--config", str(path), "--out", str(out), "--executor", "ray",
               "--address", cluster, "--threads-per-trial", "1", "--no-progress"])
    killer.join()
    assert rc == 0  # no retries of our own: Ray reran the lost node's task on the head
    r = _results(out / "sweep-lost" / "results.json")
    assert r["summary"] == {"trials": 2, "done": 2, "failed": 0}
    runs = sorted(len((out / t["dir"] / "work.txt").read_text().splitlines()) for t in r["trials"])
    assert runs == [1, 2]  # the trial on the lost node ran again, elsewhere
    assert len({t["node"] for t in r["trials"]}) == 1  # both ended on the node that is left
