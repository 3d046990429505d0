"""The one run-directory lifecycle (sparsenet.rundir), checkpoints with a kept previous one,
per-segment training time, and file modes that follow the umask."""
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from sparsenet import io
from sparsenet.config import option
from sparsenet.experiments.seed_figure.config import SeedFigureConfig
from sparsenet.experiments.train.config import TrainConfig
from sparsenet.rundir import Interrupted, RunDirError, open_run, resolve
from sparsenet.train.context import RunContext, Segments

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Cfg:
    lr: float = option(0.1, help="lr")
    quick: bool = option(False, help="quick")
    threads: int = option(0, help="threads")
    out: str = option("runs", help="out")
    run_dir: str | None = option(None, help="run dir")
    resume: bool = option(False, help="resume")


# ---- naming ---------------------------------------------------------------------------------
def test_resolve_explicit_run_dir_parent_out_and_reproduction_names(tmp_path):
    assert resolve(Cfg(run_dir=str(tmp_path / "r")), "x") == tmp_path / "r"
    assert resolve(Cfg(out="p"), "x") == Path("p/x-default")
    # where/how keys (threads, resume, out) leave the name alone; what-keys hash into it
    assert resolve(Cfg(out="p", threads=3, resume=True), "x") == Path("p/x-default")
    assert resolve(Cfg(out="p", lr=0.2), "x").name.startswith("x-") and \
        resolve(Cfg(out="p", lr=0.2), "x") != Path("p/x-default")
    assert resolve(Cfg(), "seed-figure", tags=("quick",), bare_default=True) == Path("runs/seed-figure")
    assert resolve(Cfg(quick=True), "seed-figure", tags=("quick",), bare_default=True) == \
        Path("runs/seed-figure-quick")
    from sparsenet.experiments.seed_figure.run import resolve_run_dir

    assert resolve_run_dir(SeedFigureConfig()) == Path("runs/seed-figure")
    assert resolve_run_dir(SeedFigureConfig(quick=True, out="o")) == Path("o/seed-figure-quick")


# ---- lifecycle --------------------------------------------------------------------------------
def test_fresh_directory_gets_config_and_an_existing_run_needs_resume(tmp_path):
    d = tmp_path / "r"
    with open_run(d, Cfg(run_dir=str(d)), "demo", command="cmd") as rd:
        assert rd.created and rd.previous is None
        (d / "results.json").write_text("{}")
    rec = io.read_json(d / "config.json")
    assert rec["experiment"] == "demo" and rec["config"]["lr"] == 0.1 and rec["command"] == "cmd"
    with pytest.raises(RunDirError, match=r"already holds a finished run; pass --resume"):
        with open_run(d, Cfg(run_dir=str(d)), "demo"):
            pass
    with pytest.raises(RunDirError, match=r"config differs in lr"):
        with open_run(d, Cfg(lr=0.5, run_dir=str(d), resume=True), "demo"):
            pass
    with open_run(d, Cfg(run_dir=str(d), resume=True, threads=2), "demo") as rd:  # threads: not compared
        assert rd.finished and rd.same and not rd.created


def test_failure_before_any_output_removes_the_directory_it_created(tmp_path):
    d = tmp_path / "new" / "r"
    with pytest.raises(ValueError):
        with open_run(d, Cfg(), "demo"):
            raise ValueError("refused")
    assert not d.exists()
    # an existing directory, or one with outputs, is kept
    with pytest.raises(ValueError):
        with open_run(d, Cfg(), "demo"):
            (d / "burnin.pt").write_bytes(b"x")
            raise ValueError("late")
    assert (d / "burnin.pt").exists()


def test_ctrl_c_names_the_directory(tmp_path):
    with pytest.raises(Interrupted) as e:
        with open_run(tmp_path / "r", Cfg(), "demo"):
            (tmp_path / "r" / "x").write_text("work")
            raise KeyboardInterrupt
    assert e.value.run_dir == tmp_path / "r"


def test_a_file_or_a_file_parent_is_refused_before_anything_is_created(tmp_path):
    f = tmp_path / "f"
    f.write_text("keep")
    for path, words in ((f, "is a file, not a directory"), (f / "sub", "is a file, not a directory")):
        with pytest.raises(RunDirError, match=words):
            with open_run(path, Cfg(), "demo"):
                pass
    assert f.read_text() == "keep"


def test_corrupt_config_json_is_one_line(tmp_path):
    (tmp_path / "config.json").write_bytes(os.urandom(64))
    with pytest.raises(RunDirError, match="is not a sparsenet config"):
        with open_run(tmp_path, Cfg(resume=True), "demo"):
            pass


HOLD = """
import sys, time
from dataclasses import dataclass
from sparsenet.config import option
from sparsenet.rundir import open_run

@dataclass(frozen=True)
class C:
    resume: bool = option(True, help="r")

with open_run(sys.argv[1], C(), "demo"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_lock_refuses_a_second_process_and_dies_with_the_holder(tmp_path):
    d = tmp_path / "r"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(d), "60"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = subprocess.run([sys.executable, "-c", HOLD, str(d), "0"], env=env, capture_output=True, text=True)
        assert second.returncode != 0
        assert f"run directory {d} is in use by another sparsenet process (pid {holder.pid})" in second.stderr
        with pytest.raises(RunDirError, match=f"pid {holder.pid}"):  # and in this process
            with open_run(d, Cfg(resume=True), "demo"):
                pass
    finally:
        holder.kill()  # SIGKILL: the kernel drops the lock
        holder.wait()
    with open_run(d, Cfg(resume=True), "demo", may_change=lambda key: True):
        assert (d / ".lock").read_text().strip() == str(os.getpid())


# ---- file modes -------------------------------------------------------------------------------
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        files = [io.write_json(tmp_path / "a.json", {"x": 1}),
                 io.torch_save(tmp_path / "b.pt", {"w": torch.ones(2)}),
                 io.save_tensors(tmp_path / "c.safetensors", {"w": torch.ones(2)})]
    finally:
        os.umask(old)
    assert {oct(os.stat(p).st_mode & 0o777) for p in files} == {oct(mode)}
    assert not list(tmp_path.glob(".*.tmp"))


# ---- checkpoints ------------------------------------------------------------------------------
def test_previous_checkpoint_is_kept_and_a_corrupt_one_is_one_line(tmp_path):
    ctx = RunContext(tmp_path)
    ctx.save_checkpoint({"step": 1})
    ctx.save_checkpoint({"step": 2})
    assert ctx.load_checkpoint()["step"] == 2 and torch.load(ctx.previous_checkpoint_path)["step"] == 1
    data = ctx.checkpoint_path.read_bytes()
    for bad in (data[: len(data) // 2], os.urandom(len(data))):
        ctx.checkpoint_path.write_bytes(bad)
        with pytest.raises(io.CorruptFileError) as e:
            ctx.load_checkpoint()
        msg = str(e.value)
        assert str(ctx.checkpoint_path) in msg and "delete it" in msg and "checkpoint.pt.prev" in msg
        assert "weights_only" not in msg and "\n" not in msg
    ctx.checkpoint_path.unlink()
    assert ctx.load_checkpoint()["step"] == 1  # resumed from the previous one
    ctx.remove_checkpoints()
    assert ctx.load_checkpoint() is None


def test_segments_count_each_step_once():
    first = Segments(machine={"cpu": "a"})
    first.add(2.0, 200)
    saved = first.records(1.5, 100)  # the last checkpoint of a segment killed later
    assert saved == [{"seconds": 3.5, "steps": 300, "machine": {"cpu": "a"}}]
    second = Segments(saved, machine={"cpu": "b"})
    second.add(4.0, 500)
    recs = second.records()
    assert [r["steps"] for r in recs] == [300, 500] and Segments.total(recs) == 7.5
    assert recs[1]["machine"] == {"cpu": "b"}


def test_train_run_records_one_segment(tmp_path):
    from sparsenet.experiments.train.run import run_train

    r = run_train(TrainConfig(dataset="synthetic", spec="64-16-10", burnin_steps=20, steps=30, budget=200,
                              progress=False, run_dir=str(tmp_path / "t")))
    (seg,) = r["segments"]
    assert seg["steps"] == 50 and seg["seconds"] == pytest.approx(r["train_seconds"], abs=1e-5)
    assert not (tmp_path / "t/checkpoint.pt").exists() and not (tmp_path / "t/checkpoint.pt.prev").exists()
