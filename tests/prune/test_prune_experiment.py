"""`sparsenet prune` end to end on the synthetic dataset: files, report, comparison figure,
finished points skipped on rerun, one-line errors before any work."""

import pytest

from sparsenet import io
from sparsenet.cli import main
from sparsenet.experiments.prune.run import run_prune
from sparsenet.experiments.prune.config import PruneConfig

BASE = ["--dataset", "synthetic", "--model", "mlp", "--spec", "64-24-16-10", "--train-steps", "100",
        "--retrain-steps", "10", "--score-samples", "64", "--n-test", "200", "--no-progress"]


def test_comparison_run_files_report_figure_and_resume(tmp_path, capsys):
    run = tmp_path / "cmp"
    fig = tmp_path / "docs" / "cmp.png"
    args = ["prune", *BASE, "--criteria", "magnitude,obs,random@snip,han", "--sparsities", "0.5,0.9",
            "--han-density", "0.3,0.3,0.6", "--han-iterations", "2", "--run-dir", str(run), "--figure", str(fig)]
    assert main(args) == 0
    r = io.read_json(run / "results.json")
    assert r["experiment"] == "prune-compare"
    assert io.read_json(run / "config.json")["experiment"] == "prune-compare"
    ids = sorted(p["id"] for p in r["points"])
    assert ids == ["han", "magnitude_s0.5000", "magnitude_s0.9000", "obs_s0.5000", "obs_s0.9000",
                   "random-at-snip_s0.5000", "random-at-snip_s0.9000"]
    for p in r["points"]:
        if p["criterion"] != "han":
            assert p["live"] == round((1 - p["target_sparsity"]) * p["total"])
        assert (run / "points" / f"{p['id']}.json").is_file()
        assert (run / "masks" / f"{p['id']}.safetensors").is_file()
        assert p["shrunk"]["max_output_change"] < 1e-4
    han = next(p for p in r["points"] if p["criterion"] == "han")
    assert [row["live"] for row in han["layers"]] == [round(d * row["total"]) for d, row in zip((0.3, 0.3, 0.6), han["layers"])]
    for f in ("accuracy_vs_sparsity.png", "layer_density.png", "weights_before_after.png", "report.md"):
        assert (run / f).is_file(), f
    assert fig.is_file()
    assert "| obs | 90% |" in (run / "report.md").read_text()
    # rerun: every finished point is reused, nothing is recomputed
    stamps = {p: p.stat().st_mtime_ns for p in (run / "points").iterdir()}
    (run / "points" / "obs_s0.9000.json").unlink()
    assert main(args) == 2 and "--resume" in capsys.readouterr().err  # a run directory is continued on request
    assert main(args + ["--resume"]) == 0
    again = {p: p.stat().st_mtime_ns for p in (run / "points").iterdir()}
    assert {p for p in again if again[p] != stamps.get(p)} == {run / "points" / "obs_s0.9000.json"}


def test_single_point_with_gradual_schedule(tmp_path):
    cfg = PruneConfig(dataset="synthetic", model="mlp", spec="64-24-10", train_steps=50, criteria=("taylor",),
                      sparsities=(0.8,), schedule="gradual", retrain_steps=40, scope="global", progress=False,
                      run_dir=str(tmp_path / "one"))
    r = run_prune(cfg)
    assert r["experiment"] == "prune"
    p = r["points"][0]
    assert p["live"] == round(0.2 * p["total"]) and p["levels"][-1]["sparsity"] == 0.8


@pytest.mark.parametrize("extra, message", [
    (["--criteria", "magnitud"], "magnitud is not a valid criterion; valid: "),
    (["--sparsities", "1.0"], "sparsity 1.0 must be in"),
    (["--allocation", "erdos"], "must be one of budgets, er, erk, global, uniform, spectral"),
    (["--schedule", "cubic"], "must be one of gradual, iterative, one-shot"),
    (["--criteria", "han", "--han-density", "0.1,0.2"], "--han-density has 2 entries but 3 layers are pruned"),
    (["--structure", "channel"], "structure 'channel' needs a Conv2d layer"),
    (["--schedule", "gradual", "--retrain-steps", "0"], "--schedule gradual prunes during retraining"),
])
def test_bad_input_fails_in_one_line_before_any_work(tmp_path, capsys, extra, message):
    run = tmp_path / "bad"
    assert main(["prune", *BASE, "--run-dir", str(run), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not run.exists()


def test_a_run_dir_of_another_config_is_refused(tmp_path, capsys):
    run = tmp_path / "x"
    assert main(["prune", *BASE, "--train-steps", "20", "--retrain-steps", "0", "--run-dir", str(run)]) == 0
    assert main(["prune", *BASE, "--train-steps", "21", "--retrain-steps", "0", "--run-dir", str(run)]) == 2
    assert "config differs in train_steps" in capsys.readouterr().err
