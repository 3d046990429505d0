"""A miniature seed figure (synthetic data, tiny widths) writes every promised file, and
`sparsenet report` regenerates the report from the files alone."""
import json

import pytest

from sparsenet.cli import main


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed")
    rc = main(["reproduce", "seed-figure", "--dataset", "synthetic", "--widths", "8,64", "--budget", "200",
               "--burnin-steps", "50", "--steps", "300", "--out", str(out), "--no-progress"])
    assert rc == 0
    return out


def test_files_and_rows(seed_dir):
    for f in ("results.json", "report.md", "accuracy.png", "speed.png", "weights_hist.png", "config.json"):
        assert (seed_dir / f).exists(), f
    res = json.loads((seed_dir / "results.json").read_text())
    rows = {(r["width"], r["variant"]): r for r in res["rows"]}
    assert set(rows) == {(8, "dense"), (8, "sparse"), (64, "dense"), (64, "sparse")}
    for r in rows.values():
        assert {"width", "variant", "live_weights", "train_seconds", "test_accuracy"} <= set(r)
    assert rows[(64, "dense")]["live_weights"] == 64 * 64 + 64 * 10
    assert rows[(64, "sparse")]["hidden_live_weights"] <= 200
    assert rows[(64, "sparse")]["live_weights"] < rows[(64, "dense")]["live_weights"]
    assert (seed_dir / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 64 |" in (seed_dir / "report.md").read_text()


def test_report_regenerates_from_files(seed_dir, capsys):
    (seed_dir / "report.md").unlink()
    (seed_dir / "speed.png").unlink()
    assert main(["report", str(seed_dir)]) == 0
    assert (seed_dir / "report.md").exists() and (seed_dir / "speed.png").exists()


def test_rerun_skips_finished_runs(seed_dir):
    before = json.loads((seed_dir / "results.json").read_text())["rows"]
    assert main(["reproduce", "seed-figure", "--dataset", "synthetic", "--widths", "8,64", "--budget", "200",
                 "--burnin-steps", "50", "--steps", "300", "--out", str(seed_dir), "--no-progress"]) == 0
    after = json.loads((seed_dir / "results.json").read_text())["rows"]
    assert [r["train_seconds"] for r in after] == [r["train_seconds"] for r in before]
