"""Summary (mean ± std, the issue's checks) on hand-made rows; mask overlap from saved masks."""
import math

import pytest
import torch

from sparsenet.lottery.summary import claims, mean_std, summarize
from sparsenet.lottery import noisy_labels
from sparsenet.masks import save_masks
from sparsenet.report.lottery_report import mask_overlaps


def _row(level, kind, acc, density, es=100, seed=0):
    return {"seed": seed, "level": level, "kind": kind, "test_accuracy": acc, "density": density,
            "early_stop_step": es, "early_stop_test_accuracy": acc}


def test_mean_std_is_the_sample_std():
    # (1 - 2)² + (3 - 2)² = 2, over n - 1 = 1: std √2 (the population std would be 1)
    assert mean_std([1.0, 3.0]) == {"mean": 2.0, "std": math.sqrt(2.0), "n": 2}
    # 2,4,4,4,5,5,7,9: mean 5, squares sum to 32, 32 / 7
    assert mean_std([2.0, 4, 4, 4, 5, 5, 7, 9])["std"] == math.sqrt(32 / 7)
    one = mean_std([5.0])
    assert one["mean"] == 5.0 and one["n"] == 1 and math.isnan(one["std"])  # no spread from one seed
    assert math.isnan(mean_std([])["mean"])


def test_claims_at_21_and_7_percent():
    rows = [_row(0, "ticket", 0.88, 1.0, es=3000, seed=s) for s in (0, 1)]
    rows += [_row(7, "ticket", 0.880, 0.211, es=2000), _row(7, "ticket", 0.876, 0.211, es=2000, seed=1),
             _row(7, "reinit", 0.86, 0.211), _row(12, "ticket", 0.87, 0.069, es=3000),
             _row(12, "reinit", 0.865, 0.069), _row(3, "reinit", 0.87, 0.5)]
    got = {c["claim"].split(" at ")[0] + "@" + c["claim"].split("(level ")[-1].rstrip(")"): c["holds"]
           for c in claims(summarize(rows, [])["levels"])}
    assert got["ticket >= dense - 0.5 points@7"] is True      # 87.8 >= 87.5
    assert got["ticket >= reinit + 1 point@7"] is True        # 87.8 >= 87.0
    assert got["ticket >= dense - 0.5 points@12"] is False    # 87.0 < 87.5
    assert got["ticket >= reinit + 1 point@12"] is False      # 87.0 < 87.5
    assert got["ticket early-stop step <= dense's@12"] is True
    assert got["reinit degrades as sparsity grows@reinit degrades as sparsity grows"] is True


def test_speed_step_is_first_step_reaching_99_percent_of_dense_best():
    from sparsenet.lottery.summary import speed_steps

    curve = lambda accs: [{"step": 10 * (i + 1), "val_accuracy": a} for i, a in enumerate(accs)]  # noqa: E731
    rows = [dict(_row(0, "ticket", 0.9, 1.0), curve=curve([0.5, 0.8, 0.9, 0.85])),
            dict(_row(3, "ticket", 0.9, 0.5), curve=curve([0.7, 0.892, 0.95])),
            dict(_row(3, "reinit", 0.8, 0.5), curve=curve([0.5, 0.6, 0.7]))]
    got = [r["speed_step"] for r in speed_steps(rows)]
    assert got == [30, 20, None]  # target 0.99 * 0.9 = 0.891


def test_mask_overlap_between_nested_levels_and_seeds(tmp_path):
    m0 = {"w": torch.ones(8, dtype=torch.bool)}
    m1 = {"w": torch.tensor([1, 1, 1, 1, 0, 0, 0, 0], dtype=torch.bool)}
    other = {"w": torch.tensor([0, 0, 1, 1, 1, 1, 0, 0], dtype=torch.bool)}
    for seed, masks in ((0, (m0, m1)), (1, (m0, other))):
        for lv, m in enumerate(masks):
            save_masks(tmp_path / f"seed{seed}/level{lv:02d}/ticket/masks.safetensors", m)
    ov = mask_overlaps(tmp_path, [0, 1], 1)
    assert ov["between_levels"] == [[1.0, 0.5], [0.5, 1.0]]  # IoU of nested masks = |m1| / |m0|
    assert ov["between_seeds"] == [{"level": 1, "iou": pytest.approx(2 / 6), "pairs": 1,
                                    "chance": pytest.approx(0.5 / 1.5)}]


def test_label_noise_changes_at_most_the_chosen_fraction_deterministically():
    y = torch.arange(1000) % 10
    a = noisy_labels(y, 10, 0.3, seed=4)
    changed = int((a != y).sum())
    assert 0.3 * 1000 * 0.8 < changed <= 300  # a random label equals the true one 1 time in 10
    assert torch.equal(a, noisy_labels(y, 10, 0.3, seed=4))


def test_every_lottery_recipe_parses():
    from pathlib import Path

    from sparsenet.config import build_config
    from sparsenet.experiments.lottery.config import LotteryConfig

    recipes = sorted(Path(__file__).resolve().parents[2].glob("recipes/lottery-*.toml"))
    assert len(recipes) >= 4
    for path in recipes:
        build_config(LotteryConfig, toml_path=path)
