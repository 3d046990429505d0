"""run_warning: chance accuracy and loss blow-up, on hand-made numbers."""
import json
import math

import torch

from sparsenet.train.health import chance_accuracy, chance_margin, logged_losses, run_warning

BALANCED = torch.arange(10).repeat(100)  # 1000 labels, 100 of each class: chance 0.1


def test_chance_is_the_most_frequent_class_share():
    assert chance_accuracy(BALANCED) == 0.1
    assert chance_accuracy(torch.tensor([0, 0, 0, 1])) == 0.75


def test_margin_is_three_binomial_standard_errors_but_at_least_one_point():
    assert math.isclose(chance_margin(0.1, 100), 3 * math.sqrt(0.09 / 100))  # 0.09
    assert chance_margin(0.1, 1_000_000) == 0.01


def test_chance_accuracy_warns_and_names_the_numbers():
    # margin for p = 0.1, n = 1000: 3 * sqrt(0.09 / 1000) = 0.0285
    w = run_warning("train", accuracy=0.12, labels=BALANCED, losses=[2.3, 2.2], num_classes=10)
    assert w.startswith("train: final test accuracy 0.1200 is at chance level (0.1000")
    assert "lower --lr" in w and "training loss" not in w
    assert run_warning("train", accuracy=0.13, labels=BALANCED, losses=[2.3, 2.2], num_classes=10) is None


def test_loss_rise_by_two_orders_of_magnitude_warns():
    # baseline min(first 3.0, ln 10 = 2.303); 230.3 = 100x
    w = run_warning("train", accuracy=0.9, labels=BALANCED, losses=[3.0, 50.0, 231.0], num_classes=10)
    assert "the training loss rose to 231" in w and "ln 10" in w
    assert run_warning("train", accuracy=0.9, labels=BALANCED, losses=[3.0, 229.0], num_classes=10) is None
    # a first log already below ln C is the baseline
    w = run_warning("x", accuracy=0.9, labels=BALANCED, losses=[0.5, 60.0], num_classes=10)
    assert "120x the first logged 0.5" in w


def test_both_problems_make_one_line():
    w = run_warning("train", accuracy=0.1, labels=BALANCED, losses=[1e7, 1.5e7], num_classes=10, fix="do X")
    assert "at chance level" in w and " and the training loss rose" in w and w.endswith("do X")
    assert "\n" not in w


def test_logged_losses_reads_train_lines_of_the_phases_asked(tmp_path):
    path = tmp_path / "metrics.jsonl"
    lines = [{"event": "train", "phase": "dense", "loss": 2.0}, {"event": "eval", "phase": "dense", "loss": 9.0},
             {"event": "train", "phase": "p_s0.5:0", "loss": 1.0}, {"event": "train", "phase": "p_s0.5:1", "loss": 0.5},
             {"event": "train", "phase": "p_s0.50", "loss": 7.0}]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"torn')
    assert logged_losses(path) == [2.0, 1.0, 0.5, 7.0]
    assert logged_losses(path, ["dense"]) == [2.0]
    assert logged_losses(path, prefix="p_s0.5") == [1.0, 0.5]
    assert logged_losses(tmp_path / "none.jsonl") == []
