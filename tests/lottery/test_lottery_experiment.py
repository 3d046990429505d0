"""`sparsenet lottery` end to end on the synthetic dataset: artifacts, exact counts, controls,
bad input before any work, and a real SIGKILL after level 2 of 5 followed by a rerun."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sparsenet import io
from sparsenet.cli import main
from sparsenet.experiments.lottery.run import run_lottery
from sparsenet.experiments.lottery.config import LotteryConfig
from sparsenet.lottery import level_counts

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--dataset", "synthetic", "--model", "mlp", "--spec", "64-32-16-10", "--steps", "60",
         "--eval-every", "20", "--n-val", "200", "--batch-size", "32", "--rate", "0.5", "--no-progress", "--no-report"]


def cfg(tmp, **kw):
    base = dict(dataset="synthetic", model="mlp", spec="64-32-16-10", steps=60, eval_every=20, n_val=200,
                batch_size=32, rate=0.5, levels=2, progress=False, run_dir=str(tmp))
    base.update(kw)
    return LotteryConfig(**base)


def _strip(row):
    return {k: v for k, v in row.items() if k != "train_seconds"}


def test_levels_write_artifacts_with_exact_counts(tmp_path):
    r = run_lottery(cfg(tmp_path, controls=("reinit", "reshuffle", "constant", "random_mask"),
                        supermask_criteria=("large_final_same_sign",)))
    expected = level_counts({"layers.0.weight": 64 * 32, "layers.1.weight": 32 * 16, "layers.2.weight": 160},
                            2, 0.5, 0.1)
    for level in range(3):
        d = tmp_path / "seed0" / f"level{level:02d}" / "ticket"
        masks = io.load_tensors(d / "masks.safetensors")
        assert {n: int(m.sum()) for n, m in masks.items()} == expected[level]
        w = io.load_tensors(d / "weights.safetensors")
        assert all((w[n][~m] == 0).all() for n, m in masks.items())  # pruned weights stayed zero
        if level:  # nested: a pruned weight never comes back
            prev = io.load_tensors(d.parent.parent / f"level{level - 1:02d}" / "ticket" / "masks.safetensors")
            assert all(not (m & ~prev[n]).any() for n, m in masks.items())
    kinds = {(row["level"], row["kind"]) for row in r["rows"]}
    assert kinds == {(0, "ticket"), (1, "ticket"), (2, "ticket")} | {
        (lv, k) for lv in (1, 2) for k in ("reinit", "reshuffle", "constant", "random_mask")}
    ticket0 = next(row for row in r["rows"] if row["level"] == 0)
    assert ticket0["test_accuracy"] > 0.3  # chance is 0.1
    assert io.read_json(tmp_path / "results.json")["experiment"] == "lottery"
    assert {row["target"] for row in r["supermask"]} == {"level1", "level2"}


def test_late_rewinding_saves_theta_k_and_retrains_from_it(tmp_path):
    run_lottery(cfg(tmp_path, rewind_step=20, levels=1, controls=()))
    theta0 = io.load_tensors(tmp_path / "seed0/init.safetensors")
    thetak = io.load_tensors(tmp_path / "seed0/rewind.safetensors")
    assert not torch.equal(theta0["layers.0.weight"], thetak["layers.0.weight"])
    row = io.read_json(tmp_path / "seed0/level01/ticket/result.json")
    assert row["curve"][0]["step"] == 40  # retraining runs steps 20..60; first eval at 40


@pytest.mark.parametrize("flags, cls, words", [
    (["--rewind-step", "60"], "RewindError", "--rewind-step 60 is beyond the training length of 60"),
    (["--rate", "1.5"], "PruneRateError", "--rate 1.5 is outside (0, 1)"),
    (["--output-rate", "0"], "PruneRateError", "--output-rate 0.0 is outside (0, 1)"),
    (["--levels", "40"], "LevelError", "would empty layer"),
    (["--edge-popup-k", "0,50"], "TopKError", "edge-popup k 0.0 is outside (0, 100]"),
    (["--edge-popup-k", "150"], "TopKError", "edge-popup k 150.0 is outside (0, 100]"),
])
def test_bad_input_is_one_line_before_any_work(tmp_path, capsys, flags, cls, words):
    rc = main(["lottery", *QUICK, *flags, "--run-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and words in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "r").exists()


def test_error_classes_are_sparsenet_errors():
    from sparsenet.errors import SparsenetError
    from sparsenet.lottery import errors

    for name in ("RewindError", "PruneRateError", "LevelError", "TopKError"):
        assert issubclass(getattr(errors, name), SparsenetError)


def _final_state(d: Path):
    res = io.read_json(d / "results.json")
    masks = {lv: io.load_tensors(d / f"seed0/level{lv:02d}/ticket/masks.safetensors") for lv in range(6)}
    weights = io.load_tensors(d / "seed0/level05/ticket/weights.safetensors")
    return [_strip(r) for r in res["rows"]], res["supermask"], masks, weights


def test_sigkill_after_level_2_of_5_then_rerun_matches_uninterrupted(tmp_path):
    args = [sys.executable, "-m", "sparsenet", "lottery", *QUICK, "--levels", "5", "--rate", "0.3",
            "--controls", "reinit", "--control-levels", "2,4", "--run-dir"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    fault = [sys.executable, str(ROOT / "tests/faults.py"), "kill-before-level", "3", "--"]
    killed = subprocess.run(fault + args[3:] + [str(tmp_path / "k")], env=env, capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()
    assert (tmp_path / "k/seed0/level02/ticket/result.json").exists()
    assert not (tmp_path / "k/seed0/level03").exists() and not (tmp_path / "k/results.json").exists()
    done_before = (tmp_path / "k/seed0/level01/ticket/result.json").stat().st_mtime_ns
    rerun = subprocess.run(args + [str(tmp_path / "k"), "--resume"], env=env, capture_output=True)
    assert rerun.returncode == 0, rerun.stderr.decode()
    # finished levels were not redone
    assert (tmp_path / "k/seed0/level01/ticket/result.json").stat().st_mtime_ns == done_before
    run_lottery(cfg(tmp_path / "u", levels=5, rate=0.3, controls=("reinit",), control_levels=(2, 4)))
    rows_k, sm_k, masks_k, w_k = _final_state(tmp_path / "k")
    rows_u, sm_u, masks_u, w_u = _final_state(tmp_path / "u")
    assert rows_k == rows_u and sm_k == sm_u
    for lv in masks_k:
        assert all(torch.equal(masks_k[lv][n], masks_u[lv][n]) for n in masks_u[lv])
    assert all(torch.equal(w_k[n], w_u[n]) for n in w_u)


@pytest.mark.slow  # two more interpreter starts; the level-boundary kill above stays in CI
def test_kill_mid_level_then_rerun_completes(tmp_path):
    """SIGKILL inside level 0's training loop (no artifact yet): the rerun redoes only that level."""
    args = [sys.executable, "-m", "sparsenet", "lottery", *QUICK, "--levels", "1", "--controls", "",
            "--run-dir", str(tmp_path / "k")]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    fault = [sys.executable, str(ROOT / "tests/faults.py"), "kill-at-step", "30", "--"]
    assert subprocess.run(fault + args[3:], env=env, capture_output=True).returncode == -9
    assert not (tmp_path / "k/seed0/level00/ticket/result.json").exists()
    assert subprocess.run(args + ["--resume"], env=env, capture_output=True).returncode == 0
    ref = run_lottery(cfg(tmp_path / "u", levels=1, controls=()))
    got = io.read_json(tmp_path / "k/results.json")
    assert [_strip(r) for r in got["rows"]] == [_strip(r) for r in ref["rows"]]
    metrics = (tmp_path / "k/seed0/level00/ticket/metrics.jsonl").read_text().splitlines()
    ref_metrics = (tmp_path / "u/seed0/level00/ticket/metrics.jsonl").read_text().splitlines()
    strip = lambda ls: [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in ls]  # noqa: E731
    assert strip(metrics) == strip(ref_metrics)


def test_rerun_with_other_config_is_refused(tmp_path, capsys):
    run_lottery(cfg(tmp_path, levels=1, controls=()))
    rc = main(["lottery", *QUICK, "--levels", "1", "--controls", "", "--rate", "0.3", "--run-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "differs in rate" in err


def test_finished_run_can_be_continued_with_extras_without_redoing_levels(tmp_path):
    run_lottery(cfg(tmp_path, levels=1, controls=()))
    stamp = (tmp_path / "seed0/level01/ticket/result.json").stat().st_mtime_ns
    r = run_lottery(cfg(tmp_path, levels=1, controls=(), early_bird=True, eb_every=20, eb_window=1, eb_threshold=0.5,
                        resume=True))
    assert (tmp_path / "seed0/level01/ticket/result.json").stat().st_mtime_ns == stamp
    assert r["early_bird"][0]["imp_level"] == 1
    assert io.read_json(tmp_path / "config.json")["config"]["early_bird"] is True
    # other early-bird settings: a new artifact, never the old one reused
    run_lottery(cfg(tmp_path, levels=1, controls=(), early_bird=True, eb_every=20, eb_window=1, eb_threshold=0.4,
                    resume=True))
    assert len(list(tmp_path.glob("seed0/extras/early_bird_unstructured_rewind_*"))) == 2
