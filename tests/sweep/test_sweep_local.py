"""`sparsenet sweep` with the local executor: the sweep file, trials as ordinary run directories,
retries, a driver killed by SIGKILL, thread pinning, and the one-line refusals."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tests.sweep.flaky  # noqa: F401  (registers the "flaky" experiment in this process)
from sparsenet.cli import main
from sparsenet.experiments.sweep.spec import load_sweep, trials

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def plugin_env(monkeypatch):
    """Trial processes find the test experiment through $SPARSENET_PLUGINS."""
    monkeypatch.setenv("SPARSENET_PLUGINS", "tests.sweep.flaky")
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def flaky_sweep(tmp_path: Path, grid: str = "seed = [0, 1, 2]", extra: str = "", name: str = "s") -> Path:
    return write(tmp_path / f"{name}.toml", f'[sweep]\nexperiment = "flaky"\nname = "{name}"\n{extra}\n'
                                            f"[grid]\n{grid}\n")


def results(sweep_dir: Path) -> dict:
    return json.loads((sweep_dir / "results.json").read_text())


def events(sweep_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (sweep_dir / "journal.jsonl").read_text().splitlines()]


# ---- the sweep file ---------------------------------------------------------------------------
def test_grid_points_and_random_expand_in_order(tmp_path):
    path = write(tmp_path / "s.toml", """
[sweep]
experiment = "flaky"
[base]
sleep = 0.5
[grid]
seed = [0, 1]
scale = [1.0, 2.0]
[[points]]
fail = "none"
[[points]]
fail = "once"
""")
    cfg, spec = load_sweep(path)
    pts = spec.expand()
    assert len(pts) == 8
    assert pts[0] == {"seed": 0, "scale": 1.0, "fail": "none"}
    assert pts[1] == {"seed": 0, "scale": 1.0, "fail": "once"}
    assert pts[2] == {"seed": 0, "scale": 2.0, "fail": "none"}
    assert pts[-1] == {"seed": 1, "scale": 2.0, "fail": "once"}
    assert spec.axes == ["seed", "scale", "fail"] and spec.seed_keys == ["seed"]
    ts = trials(cfg, spec, threads=1)
    assert len({t.id for t in ts}) == 8
    assert all(t.config["sleep"] == 0.5 and t.config["resume"] is True and t.config["progress"] is False for t in ts)
    assert all(t.config["out"] == os.path.abspath("runs") for t in ts)


def test_random_points_are_seeded_and_inside_their_ranges(tmp_path):
    text = """
[sweep]
experiment = "flaky"
[grid]
seed = [0, 1]
[random]
samples = 5
seed = 3
scale = {low = 0.001, high = 0.1, log = true}
sleep = [0.0, 0.25]
"""
    a = load_sweep(write(tmp_path / "a.toml", text))[1].expand()
    b = load_sweep(write(tmp_path / "b.toml", text))[1].expand()
    assert a == b and len(a) == 10
    assert all(0.001 <= p["scale"] <= 0.1 and p["sleep"] in (0.0, 0.25) for p in a)
    assert len({p["scale"] for p in a}) == 5  # five draws, each crossed with both seeds
    assert [p["scale"] for p in a[:5]] == [p["scale"] for p in a[5:]]


# ---- running -----------------------------------------------------------------------------------
def test_a_trial_run_by_hand_is_the_sweeps_trial(tmp_path, capsys):
    out = tmp_path / "runs"
    base = write(tmp_path / "base.toml", '[train]\ndataset = "synthetic"\nmodel = "mlp"\nspec = "64-16-10"\n'
                                         'burnin_steps = 10\nsteps = 20\nrule = "sparsity"\nsparsity = 0.5\n')
    assert main(["train", "--config", str(base), "--seed", "1", "--out", str(out), "--threads", "1"]) == 0
    by_hand = [p for p in out.iterdir() if p.name.startswith("train-")]
    assert len(by_hand) == 1
    before = (by_hand[0] / "results.json").stat().st_mtime_ns
    sweep = write(tmp_path / "s.toml", '[sweep]\nexperiment = "train"\nname = "hand"\n'
                                       f'[base]\nconfig = "{base.name}"\n[grid]\nseed = [1]\n')
    capsys.readouterr()
    assert main(["sweep", "--config", str(sweep), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("train-")) == [by_hand[0].name]
    assert (by_hand[0] / "results.json").stat().st_mtime_ns == before  # kept, not rerun
    r = results(out / "sweep-hand")
    assert r["trials"][0]["dir"] == by_hand[0].name and r["trials"][0]["status"] == "done"
    assert [e["event"] for e in events(out / "sweep-hand")] == ["kept"]


def test_failed_trials_are_retried_then_reported_without_stopping_the_others(tmp_path, plugin_env, capsys):
    path = write(tmp_path / "s.toml", """
[sweep]
experiment = "flaky"
name = "faults"
retries = 2
[[points]]
seed = 0
[[points]]
seed = 1
fail = "always"
[[points]]
seed = 2
fail = "once"
[[points]]
seed = 3
fail = "refuse"
[[points]]
seed = 4
fail = "exit"
""")
    out = tmp_path / "runs"
    rc = main(["sweep", "--config", str(path), "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 1
    rows = {r["point"]["seed"]: r for r in results(out / "sweep-faults")["trials"]}
    assert rows[0]["status"] == "done" and rows[0]["attempts"] == 1
    assert rows[1]["status"] == "failed" and rows[1]["attempts"] == 3
    assert "RuntimeError: flaky trial seed 1 failed on attempt 3" in rows[1]["error"]
    assert rows[2]["status"] == "done" and rows[2]["attempts"] == 2
    assert rows[3]["status"] == "failed" and rows[3]["attempts"] == 1 and rows[3]["failure"] == "refused"
    assert "flaky refuses seed 3" in rows[3]["error"]
    assert rows[4]["status"] == "failed" and rows[4]["attempts"] == 3 and rows[4]["failure"] == "crashed"
    assert "exit status 3" in rows[4]["error"]
    assert "2/5 trials done, 3 failed" in printed
    report = (out / "sweep-faults" / "report.md").read_text()
    assert "flaky trial seed 1 failed" in report
    # a rerun retries only what failed, and keeps what is done
    rc = main(["sweep", "--config", str(path), "--out", str(out), "--retries", "0"])
    rows = {r["point"]["seed"]: r for r in results(out / "sweep-faults")["trials"]}
    assert rows[1]["attempts"] == 4 and rows[0]["attempts"] == 1 and rows[2]["attempts"] == 2


def test_each_trial_gets_its_threads_and_its_own_cpus(tmp_path, plugin_env):
    path = flaky_sweep(tmp_path, "seed = [0, 1]", extra="max_concurrent = 2", name="pin")
    out = tmp_path / "runs"
    assert main(["sweep", "--config", str(path), "--out", str(out)]) == 0
    r = results(out / "sweep-pin")
    assert r["sweep"]["threads_per_trial"] == max(1, len(os.sched_getaffinity(0)) // 2)
    for row in r["trials"]:
        res = json.loads((out / row["dir"] / "results.json").read_text())
        assert res["omp_threads"] == res["numba_threads"] == str(r["sweep"]["threads_per_trial"])
        if len(os.sched_getaffinity(0)) >= 2:
            assert len(res["cpus"]) == r["sweep"]["threads_per_trial"]
        cfg = json.loads((out / row["dir"] / "config.json").read_text())["config"]
        assert cfg["threads"] == r["sweep"]["threads_per_trial"]


def test_sigkill_of_the_driver_loses_only_the_trials_in_flight(tmp_path, plugin_env):
    path = flaky_sweep(tmp_path, "seed = [0, 1, 2, 3, 4]", extra="max_concurrent = 2", name="kill")
    text = path.read_text() + "[base]\nsleep = 1.5\n"
    path.write_text(text)
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "sparsenet", "sweep", "--config", str(path), "--out", str(out), "--no-progress"]
    driver = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = out / "sweep-kill" / "journal.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if journal.exists() and sum('"done"' in ln for ln in journal.read_text().splitlines()) >= 2:
            break
        assert driver.poll() is None, driver.stderr.read().decode()
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    done_before = {e["trial"] for e in events(out / "sweep-kill") if e["event"] == "done"}
    assert 2 <= len(done_before) < 5
    time.sleep(1.0)  # the trial processes die with the driver (PR_SET_PDEATHSIG)
    work = {p.name: len((p / "work.txt").read_text().splitlines()) for p in out.glob("flaky-*") if (p / "work.txt").exists()}
    in_flight = {t for t in work if t not in done_before}
    assert all(not (out / t / "results.json").exists() for t in in_flight)  # killed, not finished behind our back
    assert main(["sweep", "--config", str(path), "--out", str(out), "--no-progress"]) == 0
    after = {p.name: len((p / "work.txt").read_text().splitlines()) for p in out.glob("flaky-*")}
    assert all(after[t] == 1 for t in done_before)  # no finished trial reran
    assert sum(after.values()) <= 5 + len(in_flight)
    assert results(out / "sweep-kill")["summary"] == {"trials": 5, "done": 5, "failed": 0}
    # the aggregate equals an uninterrupted sweep's
    fresh = tmp_path / "fresh"
    assert main(["sweep", "--config", str(path), "--out", str(fresh), "--no-progress"]) == 0
    assert (out / "sweep-kill" / "aggregate.json").read_text() == (fresh / "sweep-kill" / "aggregate.json").read_text()


# ---- refusals ------------------------------------------------------------------------------------
def refused(argv, capsys, needle: str) -> str:
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("sparsenet: error:"), err
    assert needle in err, err
    return err


@pytest.mark.parametrize("body, needle", [
    ('[sweep]\nexperiment = "flaky"\n[grid]\nsed = [0, 1]\n', "unknown key 'sed' in [grid]"),
    ('[sweep]\nexperiment = "flaky"\n[grid]\nseed = []\n', "[grid] seed = [] "),
    ('[sweep]\nexperiment = "flaky"\n', "has no trials"),
    ('[sweep]\nexperiment = "flaky"\n[grid]\nseed = 3\n', "a grid axis is a list"),
    ('[sweep]\nexperiment = "flaky"\n[grid]\nout = ["a"]\n', "the sweep sets out"),
    ('[sweep]\nexperiment = "lotery"\n[grid]\nseed = [0]\n', "did you mean 'lottery'"),
    ('[sweep]\n[grid]\nseed = [0]\n', "names no experiment"),
    ('[sweep]\nexperiment = "flaky"\n[gird]\nseed = [0]\n', "did you mean [grid]"),
    ('[sweep]\nexperiment = "flaky"\n[grid]\nseed = [0, 1]\nthreads = [1, 2]\n', "are the same trial"),
])
def test_bad_sweep_files_are_refused_before_any_trial(tmp_path, capsys, body, needle):
    path = write(tmp_path / "bad.toml", body)
    err = refused(["sweep", "--config", str(path), "--out", str(tmp_path / "runs")], capsys, needle)
    assert not (tmp_path / "runs").exists(), err


def test_unknown_grid_key_lists_the_valid_ones(tmp_path, capsys):
    path = write(tmp_path / "bad.toml", '[sweep]\nexperiment = "lottery"\n[grid]\nsparsity = [0.5]\n')
    err = refused(["sweep", "--config", str(path), "--out", str(tmp_path / "runs")], capsys, "valid keys:")
    assert "levels" in err and "criterion" in err


def test_every_invalid_point_is_named_before_any_runs(tmp_path, capsys):
    path = write(tmp_path / "bad.toml", '[sweep]\nexperiment = "lottery"\n[base]\nsteps = 100\n'
                                        '[grid]\nseed = [0]\nrate = [0.2, 1.5, -1.0]\n')
    err = refused(["sweep", "--config", str(path), "--out", str(tmp_path / "runs")], capsys,
                  "2 of 3 points")
    assert "rate=1.5" in err and "rate=-1.0" in err
    assert not (tmp_path / "runs").exists()


def test_address_without_the_ray_executor_is_refused(tmp_path, capsys):
    path = flaky_sweep(tmp_path)
    refused(["sweep", "--config", str(path), "--out", str(tmp_path / "runs"), "--address", "auto"], capsys,
            "--address auto is for --executor ray")
    assert not (tmp_path / "runs").exists()


def test_a_missing_ray_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    path = flaky_sweep(tmp_path)
    refused(["sweep", "--config", str(path), "--out", str(tmp_path / "runs"), "--executor", "ray"], capsys,
            "pip install 'sparsenet[ray]'")
    assert not (tmp_path / "runs").exists()


def test_a_sweep_file_is_required(capsys):
    with pytest.raises(SystemExit) as e:
        main(["sweep"])
    assert e.value.code == 2 and "--config" in capsys.readouterr().err


def test_a_sweep_directory_is_not_reused_for_another_grid(tmp_path, plugin_env, capsys):
    out = tmp_path / "runs"
    assert main(["sweep", "--config", str(flaky_sweep(tmp_path, "seed = [0]", name="one")), "--out", str(out)]) == 0
    capsys.readouterr()
    other = write(tmp_path / "one.toml", '[sweep]\nexperiment = "flaky"\nname = "one"\n[grid]\nseed = [0, 1]\n')
    refused(["sweep", "--config", str(other), "--out", str(out)], capsys, "holds a sweep with another grid or base")
    same = flaky_sweep(tmp_path, "seed = [0]", name="one")
    refused(["sweep", "--config", str(same), "--out", str(out), "--no-resume"], capsys, "already holds a finished run")
    assert main(["sweep", "--config", str(same), "--out", str(out)]) == 0  # the same sweep continues
    assert len(list(out.glob("flaky-*"))) == 1  # the refused grid ran nothing
