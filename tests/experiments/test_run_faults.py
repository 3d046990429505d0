"""Filesystem and checkpoint faults through the real CLI (`python -m sparsenet ...` in a child
process): one line `sparsenet: error: ...`, exit status 2, no traceback, and no run directory left
behind by an input refused before any work."""
import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sparsenet import io
from sparsenet.cli import main

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv/bin/python") if (ROOT / ".venv/bin/python").exists() else sys.executable
TRAIN = ["train", "--dataset", "synthetic", "--spec", "64-32-10", "--burnin-steps", "20", "--steps", "300",
         "--budget", "300", "--log-every", "50", "--checkpoint-every", "100", "--no-progress"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def cli(args, *, fault=None, prefix=()):
    head = [PY, str(ROOT / "tests/faults.py"), *fault, "--"] if fault else [PY, "-m", "sparsenet"]
    return subprocess.run([*prefix, *head, *args], env=ENV, capture_output=True, text=True, timeout=300)


def one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sparsenet: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def test_run_dir_that_is_a_file_and_a_refused_input_leave_nothing(tmp_path):
    f = tmp_path / "file"
    f.write_text("keep")
    one_line_error(cli(TRAIN + ["--run-dir", str(f)]), str(f), "is a file")
    assert f.read_text() == "keep"
    # refused before work (budget larger than the layer): no run directory under --out
    one_line_error(cli(TRAIN + ["--rule", "budget", "--budget", "5000", "--out", str(tmp_path / "out")]), "5000")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_file_size_limit_is_one_line_and_resume_finishes(tmp_path):
    d = tmp_path / "r"
    err = one_line_error(cli(TRAIN + ["--run-dir", str(d)], prefix=("bash", "-c", 'ulimit -f 8; exec "$@"', "_")),
                         "file size limit exceeded", "ulimit -f", "--resume")
    assert str(d) in err and not (d / "results.json").exists()
    done = cli(TRAIN + ["--run-dir", str(d), "--resume"])
    assert done.returncode == 0, done.stderr
    assert (d / "results.json").exists() and (d / "report.md").exists()  # train writes its report


def test_disk_full_is_one_line(tmp_path, monkeypatch, capsys):
    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(io, "write_bytes", full)
    assert main(TRAIN + ["--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sparsenet: error: no space left writing") and len(err.splitlines()) == 1
    assert "--resume" in err


def test_report_into_an_unwritable_directory_is_one_line(tmp_path, monkeypatch, capsys):
    from sparsenet.experiments.train.run import run_train
    from sparsenet.experiments.train.config import TrainConfig

    run_train(TrainConfig(dataset="synthetic", spec="64-16-10", burnin_steps=10, steps=20, budget=200,
                          progress=False, run_dir=str(tmp_path / "r")))

    def denied(path):  # what a read-only directory answers (root ignores mode bits, so simulate)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(io, "_open_temp", denied)  # every report file is written through sparsenet.io
    assert main(["report", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "permission denied" in err and str(tmp_path / "r") in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_out_is_one_line(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        one_line_error(cli(TRAIN + ["--out", str(ro)]), str(ro), "writable")
        assert not list(ro.iterdir())
    finally:
        ro.chmod(0o755)


def test_corrupt_checkpoint_says_which_file_and_the_previous_one_resumes(tmp_path):
    d = tmp_path / "k"
    killed = cli(TRAIN + ["--run-dir", str(d)], fault=("kill-at-step", "250"))
    assert killed.returncode == -signal.SIGKILL
    ckpt = d / "checkpoint.pt"
    assert ckpt.exists() and (d / "checkpoint.pt.prev").exists()
    ckpt.write_bytes(os.urandom(ckpt.stat().st_size))
    err = one_line_error(cli(TRAIN + ["--run-dir", str(d), "--resume"]), str(ckpt), "delete it",
                         "checkpoint.pt.prev")
    assert "weights_only" not in err
    ckpt.unlink()
    done = cli(TRAIN + ["--run-dir", str(d), "--resume"])
    assert done.returncode == 0, done.stderr
    r = io.read_json(d / "results.json")
    # two segments; every step is counted once: 20 burn-in + 300 sparse
    assert len(r["segments"]) == 2 and sum(s["steps"] for s in r["segments"]) == 320
    assert sum(s["seconds"] for s in r["segments"]) == pytest.approx(r["train_seconds"], abs=1e-4)
    assert "## Segments" in (d / "report.md").read_text()
    assert "in 2 segments" in done.stdout


def test_second_writer_is_refused_and_ctrl_c_names_the_directory(tmp_path):
    d = tmp_path / "r"
    first = subprocess.Popen([PY, str(ROOT / "tests/faults.py"), "hold-lock", "120", "--", *TRAIN, "--run-dir", str(d)],
                             env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "holding"
        one_line_error(cli(TRAIN + ["--run-dir", str(d), "--resume"]), str(d), f"pid {first.pid}", "in use")
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130
    assert err.strip() == f"sparsenet: interrupted; rerun the same command with --resume to continue {d}"


def test_two_lottery_runs_on_one_directory(tmp_path):
    d = tmp_path / "lot"
    args = ["lottery", "--dataset", "synthetic", "--model", "mlp", "--spec", "64-16-10", "--steps", "40",
            "--eval-every", "20", "--n-val", "100", "--levels", "1", "--controls", "", "--no-progress",
            "--no-report", "--run-dir", str(d)]
    first = subprocess.Popen([PY, str(ROOT / "tests/faults.py"), "hold-lock", "120", "--", *args],
                             env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "holding"
        one_line_error(cli(args + ["--resume"]), str(d), f"pid {first.pid}")
    finally:
        first.kill()
        first.wait()


def test_damaged_checkpoint_with_an_odd_pickle_protocol_is_one_error_and_no_warning(tmp_path):
    # random bytes in a checkpoint can start with a pickle PROTO opcode of any number, which made torch
    # warn about the protocol before failing: the user must see the one-line error only
    import warnings

    from sparsenet.errors import SparsenetError

    bad = tmp_path / "checkpoint.pt"
    bad.write_bytes(b"\x80\xf4" + os.urandom(64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SparsenetError, match="checkpoint.pt cannot be read"):
            io.torch_load(bad)
