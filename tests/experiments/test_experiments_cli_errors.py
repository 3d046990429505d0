"""Every bad input gets one clear line on stderr, exit status 2, and no traceback."""
import pytest

from sparsenet.cli import main

BASE = ["train", "--dataset", "synthetic", "--spec", "64-16-10", "--steps", "10", "--no-progress"]


@pytest.mark.parametrize("extra, needle", [
    (["--rule", "sparsity", "--sparsity", "1.5"], "1.5"),
    (["--rule", "sparsity", "--sparsity", "-0.1"], "-0.1"),
    (["--rule", "budget", "--budget", "5000"], "5000"),
    (["--dataset", "imagenet"], "fashion-mnist"),
    (["--model", "resnet"], "lenet300100"),
    (["--optimizer", "lbfgs"], "adam"),
    (["--spec", "64--10"], "64--10"),
    (["--spec", "64-0-10"], "64-0-10"),
    (["--spec", "32-16-10"], "64"),
    (["--batch-size", "0"], "--batch-size 0"),
    (["--lr", "-1"], "--lr -1"),
    (["--engine", "fused", "--optimizer", "adam"], "fused"),
])
def test_bad_input_is_one_line(extra, needle, tmp_path, capsys):
    rc = main(BASE + ["--out", str(tmp_path)] + extra)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("sparsenet: error:")
    assert needle in err
    assert not list(tmp_path.glob("*/results.json"))


def test_missing_dataset_names_every_place_and_the_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SPARSENET_DATA_DIR", raising=False)
    monkeypatch.delenv("SPARSENET_MNIST_DIR", raising=False)
    rc = main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert "nowhere" in err and "--data-dir" in err


def test_corrupt_idx_is_one_line(tmp_path, capsys):
    d = tmp_path / "mnist"
    d.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (d / name).write_bytes(b"\x00\x00\x08\x03garbage")
    rc = main(["train", "--dataset", "mnist", "--data-dir", str(d), "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "idx" in err.lower()


def test_help_for_every_command(capsys):
    for cmd in (["train"], ["reproduce", "seed-figure"], ["report"], ["data"]):
        with pytest.raises(SystemExit) as e:
            main(cmd + ["--help"])
        assert e.value.code == 0
        assert "usage: sparsenet" in capsys.readouterr().out
