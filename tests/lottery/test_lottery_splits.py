"""What a lottery run measures on which split: evaluations labelled with their real split (and
equal to an independent `evaluate`), the MNIST-1D data seed, --n-val 0 and too-small splits."""
import json

import pytest
import torch

from sparsenet import io
from sparsenet.cli import main
from sparsenet.data import load_dataset
from sparsenet.experiments.lottery.run import (NO_VAL_NOTE, LotteryData, builder, run_lottery,
                                           validation_notes)
from sparsenet.experiments.lottery.config import LotteryConfig
from sparsenet.train import evaluate


@pytest.fixture(scope="module")
def mnist1d42():
    return load_dataset("mnist1d", seed=42)  # ~2.5 s to generate: once for the module


def cfg(tmp, **kw):
    base = dict(dataset="synthetic", model="mlp", spec="64-32-16-10", steps=60, eval_every=20, n_val=500,
                batch_size=32, rate=0.5, levels=1, controls=(), supermask_criteria=(), progress=False,
                report=False, run_dir=str(tmp))
    base.update(kw)
    return LotteryConfig(**base)


def evals(path):
    lines = [json.loads(ln) for ln in path.read_text().splitlines()]
    return [ln for ln in lines if ln["event"] == "eval"]


def trained(c, d):
    """The artifact's trained model, rebuilt from its weights file, and the run's data."""
    data = LotteryData(c)
    model = builder(c, data)()
    model.load_state_dict(io.load_tensors(d / "weights.safetensors"))
    return model, data


def test_evals_are_labelled_by_split_and_match_an_independent_evaluate(tmp_path):
    c = cfg(tmp_path)
    run_lottery(c)
    for level in (0, 1):
        d = tmp_path / "seed0" / f"level{level:02d}" / "ticket"
        ev = evals(d / "metrics.jsonl")
        # every eval step has exactly one val and one test line
        assert sorted((e["step"], e["split"]) for e in ev) == [(s, sp) for s in (20, 40, 60) for sp in ("test", "val")]
        model, data = trained(c, d)
        final = {e["split"]: e for e in ev if e["step"] == 60}
        for split, xy in (("val", data.val), ("test", data.test)):
            ref = evaluate(model, *xy)
            assert final[split]["accuracy"] == pytest.approx(ref["accuracy"])
            assert final[split]["loss"] == pytest.approx(ref["loss"], rel=1e-5)
        result = io.read_json(d / "result.json")
        assert result["val_accuracy"] == pytest.approx(evaluate(model, *data.val)["accuracy"])
        assert result["test_accuracy"] == pytest.approx(evaluate(model, *data.test)["accuracy"])
        # the curve (early stopping) reads the val lines, its test accuracy the test lines
        by = {(e["step"], e["split"]): e for e in ev}
        for p in result["curve"]:
            assert p["val_loss"] == by[(p["step"], "val")]["loss"]
            assert p["test_accuracy"] == by[(p["step"], "test")]["accuracy"]
        best = min(result["curve"], key=lambda p: (p["val_loss"], p["step"]))
        assert result["early_stop_step"] == best["step"]


def test_n_val_zero_trains_on_everything_and_skips_validation_measures(tmp_path):
    c = cfg(tmp_path, n_val=0, report=True, controls=("reinit",))
    data = LotteryData(c)
    assert data.val is None and data.train[0].shape[0] == 2000  # all of synthetic's training set
    r = run_lottery(c)
    assert r["data"]["n_val"] == 0 and r["data"]["n_train"] == 2000 and NO_VAL_NOTE in r["notes"]
    for row in r["rows"]:
        assert row["val_accuracy"] is None and row["early_stop_step"] is None
        assert row["early_stop_test_accuracy"] is None
        assert all(p["val_loss"] is None for p in row["curve"]) and row["curve"][-1]["step"] == 60
    ev = evals(tmp_path / "seed0" / "level01" / "ticket" / "metrics.jsonl")
    assert {e["split"] for e in ev} == {"test"} and sorted(e["step"] for e in ev) == [20, 40, 60]
    assert not any("early-stop" in cl["claim"] or "val accuracy" in cl["claim"] for cl in r["summary"]["claims"])
    assert main(["report", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "no validation split (--n-val 0)" in text and "early-stop step" not in text
    assert not (tmp_path / "early_stop.png").exists() and not (tmp_path / "learning_speed.png").exists()


@pytest.mark.parametrize("n_val, n_train, warns", [
    (0, 4000, True),      # no split: said (not a warning, see run_lottery)
    (200, 1800, True),    # under 500 examples
    (499, 3501, True),
    (500, 3500, False),   # 500 and 12.5%: fine
    (1000, 59000, True),  # 1.7% < 5% of train
    (2950, 59000, False),  # exactly 5%
    (5000, 55000, False),
])
def test_validation_notes_thresholds(n_val, n_train, warns):
    assert bool(validation_notes(n_val, n_train)) == warns


def test_small_validation_split_warns_in_one_line(tmp_path, capsys):
    run_lottery(cfg(tmp_path, n_val=200, levels=0))
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("sparsenet: warning:")]
    assert len(err) == 1 and "only 200 examples" in err[0] and "--n-val >= 500" in err[0]
    assert "standard error of up to 3.5 points" in err[0]  # 50 / sqrt(200) = 3.54


def test_no_val_run_prints_no_warning(tmp_path, capsys):
    run_lottery(cfg(tmp_path, n_val=0, levels=0))
    assert "warning" not in capsys.readouterr().err


def test_default_n_val_on_mnist1d_is_one_line_naming_the_size(tmp_path, capsys):
    rc = main(["lottery", "--dataset", "mnist1d", "--model", "mlp", "--spec", "40-16-10", "--steps", "20",
               "--no-progress", "--run-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "--n-val 5000" in err and "mnist1d has 4000 training examples" in err
    assert "--n-val 0" in err and "recipes/lottery-mnist1d.toml" in err
    assert not (tmp_path / "r").exists()


def test_mnist1d_is_generated_with_the_data_seed(tmp_path, mnist1d42):
    default = LotteryData(cfg(tmp_path, dataset="mnist1d", spec="40-16-10", n_val=500))
    ref = mnist1d42
    assert default.info["data_seed"] == 42 and default.info["n_train"] == 3500
    assert torch.equal(default.train[0], ref.x_train[:3500]) and torch.equal(default.val[1], ref.y_train[3500:])
    assert torch.equal(default.test[0], ref.x_test)
    seven = LotteryData(cfg(tmp_path, dataset="mnist1d", spec="40-16-10", n_val=500, data_seed=7))
    assert seven.info["data_seed"] == 7 and "seed=7" in seven.info["source"]
    assert not torch.equal(seven.train[0], default.train[0])
    assert LotteryData(cfg(tmp_path, dataset="fashion-mnist", n_train=600, n_val=100, spec="784-16-10")
                       ).info["data_seed"] is None  # a file dataset has no seed


def test_train_and_prune_use_the_data_seed_not_the_run_seed(mnist1d42):
    from sparsenet.experiments.prune.config import PruneConfig
    from sparsenet.experiments.train.run import load_data
    from sparsenet.experiments.train.config import TrainConfig

    ref = mnist1d42.x_train
    assert torch.equal(load_data(TrainConfig(dataset="mnist1d", seed=3)).x_train, ref)
    assert not torch.equal(load_data(TrainConfig(dataset="mnist1d", seed=3, data_seed=3)).x_train, ref)
    assert PruneConfig().data_seed is None and TrainConfig().data_seed is None
