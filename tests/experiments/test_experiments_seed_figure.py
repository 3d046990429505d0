"""A miniature seed figure (synthetic data, tiny widths) writes every promised file for both
sparse variants, and `sparsenet report` regenerates the report from the files alone."""
import json
from pathlib import Path

import pytest

from sparsenet.cli import main
from sparsenet.experiments.seed_figure.run import (FULL_WIDTHS, QUICK_STEPS, QUICK_TEST, QUICK_WIDTHS,
                                               SeedFigureConfig, effective, run_config)

ARGS = ["reproduce", "seed-figure", "--dataset", "synthetic", "--widths", "16,64", "--budget", "200",
        "--burnin-steps", "50", "--steps", "300", "--no-progress"]


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed")
    assert main(ARGS + ["--run-dir", str(out)]) == 0
    return out


def rows_of(seed_dir):
    res = json.loads((seed_dir / "results.json").read_text())
    return res, {(r["width"], r["variant"]): r for r in res["rows"]}


def test_files_and_rows(seed_dir):
    for f in ("results.json", "report.md", "accuracy.png", "speed.png", "weights_hist.png", "config.json"):
        assert (seed_dir / f).exists(), f
    res, rows = rows_of(seed_dir)
    assert res["variants"] == ["dense", "sparse", "fixed-total"] and res["output_budget"] == 160
    assert set(rows) == {(w, v) for w in (16, 64) for v in ("dense", "sparse", "fixed-total")}
    for r in rows.values():
        assert {"width", "variant", "live_weights", "train_seconds", "test_accuracy", "phase_seconds"} <= set(r)
        assert r["live_weights"] == r["hidden_live_weights"] + r["output_live_weights"]
    assert rows[(64, "dense")]["live_weights"] == 64 * 64 + 64 * 10  # synthetic: 64 inputs, 10 classes
    assert rows[(64, "sparse")]["hidden_live_weights"] <= 200
    assert rows[(64, "sparse")]["live_weights"] < rows[(64, "dense")]["live_weights"]
    assert (seed_dir / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 64 |" in (seed_dir / "report.md").read_text()


def test_fixed_total_keeps_the_same_live_weights_at_every_width(seed_dir):
    _, rows = rows_of(seed_dir)
    for w in (16, 64):
        r = rows[(w, "fixed-total")]
        # Exactly --budget hidden weights; --output-budget 160 output weights, less the few
        # folded away with a unit that got no input.
        assert r["hidden_live_weights"] == 200
        assert 150 <= r["output_live_weights"] <= 160
        assert set(r["phase_seconds"]) == {"burnin", "prune", "sparse"}
    # The seed's variant keeps the output layer dense: its total grows with the width.
    assert rows[(16, "sparse")]["output_live_weights"] == 16 * 10
    assert rows[(64, "sparse")]["live_weights"] > rows[(64, "fixed-total")]["live_weights"]


def test_report_states_both_variants_and_their_claims(seed_dir):
    text = (seed_dir / "report.md").read_text()
    assert "## Results: sparse (seed)" in text and "## Results: sparse, fixed total" in text
    seed_part, total_part = text.split("### sparse (seed)")[1].split("### sparse, fixed total")
    for key in "abcd":
        assert f"- **({key}) " in seed_part and f"- **({key}) " in total_part
    assert "O(nnz): fixed-total time of the sparse-training phase" in total_part
    assert 'design doc 000, H. Lee, "Stupid Optimization on MLP"' in text
    assert "issue" not in text.lower()
    assert "measured in this run" in text


def test_report_regenerates_from_files(seed_dir, capsys):
    (seed_dir / "report.md").unlink()
    (seed_dir / "speed.png").unlink()
    assert main(["report", str(seed_dir)]) == 0
    assert (seed_dir / "report.md").exists() and (seed_dir / "speed.png").exists()
    assert "### sparse, fixed total" in (seed_dir / "report.md").read_text()


def test_rerun_skips_finished_runs(seed_dir):
    before = json.loads((seed_dir / "results.json").read_text())["rows"]
    assert main(ARGS + ["--run-dir", str(seed_dir)]) == 2  # a run directory is continued on request only
    assert main(ARGS + ["--run-dir", str(seed_dir), "--resume"]) == 0
    after = json.loads((seed_dir / "results.json").read_text())["rows"]
    assert [r["train_seconds"] for r in after] == [r["train_seconds"] for r in before]


def test_finished_run_with_other_settings_is_refused(seed_dir, capsys):
    # 400 samples instead of 300: reusing the 300-sample runs would report the wrong thing.
    args = [a if a != "300" else "400" for a in ARGS]
    assert main(args + ["--run-dir", str(seed_dir)]) == 2
    err = capsys.readouterr().err
    assert "holds a run with other settings: steps 300 (now 400)" in err and "Traceback" not in err


def test_seed_variant_only(tmp_path):
    args = [a if a != "16,64" else "16" for a in ARGS]
    assert main(args + ["--sparse-variants", "seed", "--run-dir", str(tmp_path)]) == 0
    res, rows = rows_of(tmp_path)
    assert set(rows) == {(16, "dense"), (16, "sparse")} and res["variants"] == ["dense", "sparse"]
    assert "fixed total" not in (tmp_path / "report.md").read_text()


def test_quick_plan_reduces_what_the_user_left_at_default():
    plan = effective(SeedFigureConfig(quick=True))
    assert plan.widths == QUICK_WIDTHS == (16, 64, 256, 1024)
    assert (plan.steps, plan.n_test) == (QUICK_STEPS, QUICK_TEST) == (2000, 2000)
    assert plan.out == Path("runs/seed-figure-quick")  # never mixes with a full run's sub-runs
    plan = effective(SeedFigureConfig(quick=True, widths=(8, 32), steps=500, n_test=100, run_dir="x"))
    assert (plan.widths, plan.steps, plan.n_test, plan.out) == ((8, 32), 500, 100, Path("x"))
    full = effective(SeedFigureConfig())
    assert (full.widths, full.steps, full.n_test, full.out) == (FULL_WIDTHS, 30000, None, Path("runs/seed-figure"))


def test_run_configs_of_the_variants():
    cfg = SeedFigureConfig()
    plan = effective(cfg)
    seed = run_config(cfg, 4096, "sparse", 784, 10, plan)
    total = run_config(cfg, 4096, "fixed-total", 784, 10, plan)
    dense = run_config(cfg, 4096, "dense", 784, 10, plan)
    assert (seed.rule, seed.budget, seed.skip, seed.output_budget) == ("halving", 3180, ("last",), None)
    assert (total.rule, total.budget, total.skip, total.output_budget) == ("budget", 3180, (), 160)
    assert dense.prune == "none" and dense.engine == "torch" and seed.engine == "auto"
    assert Path(total.run_dir) == Path("runs/seed-figure/runs/w4096-fixed-total-auto")
    # A layer smaller than its budget is kept whole: H=8 has 80 output weights.
    assert run_config(cfg, 8, "fixed-total", 784, 10, plan).output_budget == 80


def test_bad_variant_is_one_line(capsys):
    assert main(["reproduce", "seed-figure", "--sparse-variants", "seed,total"]) == 2
    err = capsys.readouterr().err
    assert "total" in err and "fixed-total" in err and "Traceback" not in err
