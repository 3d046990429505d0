"""`sparsenet reproduce kwinners`: the quick run writes its artifacts, the noise and the noise score by
hand, the claim from the numbers, trials resume, the report is rebuilt, bad inputs are one line."""
import pytest
import torch
from torch import nn

from sparsenet import io
from sparsenet.cli import main
from tests.refusals import assert_refused
from sparsenet.experiments.kwinners.nets import build, stored_weights
from sparsenet.experiments.kwinners.noise import noise_correct, noise_score, noisy
from sparsenet.nn import KWinners, SparseLinear
from sparsenet.report.kwinners_report import check_claim, summarize

QUICK = ["reproduce", "kwinners", "--quick", "--dataset", "synthetic", "--threads", "1"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("kwinners") / "run"
    assert main(QUICK + ["--run-dir", str(out)]) in (0, None)
    return out, io.read_json(out / "results.json")


def test_quick_run_writes_results_report_figure_and_one_trial_per_model(quick_run):
    out, res = quick_run
    assert res["experiment"] == "kwinners" and res["quick"] and res["seeds"] == [0]
    assert res["settings"]["hidden"] == 64 and res["settings"]["epochs"] == 1
    for name in ("report.md", "accuracy_vs_noise.png", "config.json"):
        assert (out / name).is_file(), name
    assert sorted(p.parent.name for p in (out / "trials").glob("*/result.json")) == ["dense-s0", "sparse-s0"]
    for t in res["trials"]:
        assert list(t["accuracy"]) == ["0", "0.1", "0.2", "0.3", "0.4", "0.5"]
        assert t["noise_score"] == sum(t["correct"].values()) and t["test_samples"] == 500
        assert t["steps"] == 2000 // 64 and t["boost_decays"] == 1
    dense = next(t for t in res["trials"] if t["model"] == "dense")
    assert dense["accuracy"]["0"] > 0.3  # synthetic prototypes: above chance (10 classes)
    assert dense["stored_weights"] == 64 * 64 + 64 * 64 + 64 * 10
    text = (out / "report.md").read_text()
    verdict = "PASS" if res["claim"]["passed"] else "FAIL"
    assert f"**{verdict}**: the sparse k-WTA net is more robust" in text
    assert ("- [x]" if res["claim"]["passed"] else "- [ ]") in text
    assert "noise score (of 3,000)" in text


def test_resume_skips_finished_trials_and_report_rebuilds(quick_run, capsys):
    out, first = quick_run
    assert main(QUICK + ["--run-dir", str(out)]) == 2  # a directory holding a run needs --resume
    assert "--resume" in capsys.readouterr().err
    (out / "trials" / "sparse-s0" / "result.json").unlink()
    assert main(QUICK + ["--run-dir", str(out), "--resume"]) in (0, None)
    again = io.read_json(out / "results.json")
    assert again["skipped_trials"] == 1
    assert [t["correct"] for t in again["trials"]] == [t["correct"] for t in first["trials"]]  # same seeds
    (out / "report.md").unlink()
    (out / "accuracy_vs_noise.png").unlink()
    assert main(["report", str(out)]) in (0, None)
    assert (out / "report.md").is_file() and (out / "accuracy_vs_noise.png").read_bytes()[:4] == b"\x89PNG"


class _Fixed(nn.Module):
    """Predicts class 1 where x[:, 0] > 0.5, else class 0."""

    def forward(self, x):
        return torch.stack([0.5 - x[:, 0], x[:, 0] - 0.5], dim=1)


def test_noise_score_by_hand_on_a_tiny_example():
    x = torch.tensor([[0.0], [1.0], [0.2], [0.9]])
    y = torch.tensor([0, 1, 1, 0])  # clean: rows 0, 1 right, rows 2, 3 wrong -> 2 correct
    assert noisy(x, 0.0, 7, 0.0, 1.0) is x
    # the noise of level i comes from seed noise_seed + i: rebuild it by hand
    n1 = (x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(10))).clamp(0, 1)
    n2 = (x + 5.0 * torch.randn(x.shape, generator=torch.Generator().manual_seed(11))).clamp(0, 1)
    assert torch.equal(noisy(x, 0.3, 10, 0.0, 1.0), n1) and torch.equal(noisy(x, 5.0, 11, 0.0, 1.0), n2)
    assert n2.min() >= 0 and n2.max() <= 1
    expect = {"0": 2, "0.3": int(((n1[:, 0] > 0.5).long() == y).sum()), "5": int(((n2[:, 0] > 0.5).long() == y).sum())}
    got = noise_correct(_Fixed(), x, y, [0.3, 5.0], 10, 0.0, 1.0)
    assert got == expect
    assert noise_score(got) == 2 + expect["0.3"] + expect["5"]
    assert noise_score({"0": 3, "0.1": 2, "0.2": 0}) == 5
    # the range scales the noise: level s on [lo, hi] = [0, 2] is std 2s
    big = torch.full((1, 2000), 1.0)
    assert noisy(big, 0.01, 3, 0.0, 2.0).sub(1).std().item() == pytest.approx(0.02, rel=0.1)


def test_sparse_net_is_sparse_weights_plus_kwinners():
    m = build("sparse", 20, 30, 4, seed=1, density=0.5, percent_on=0.2)
    assert [type(layer) for layer in m.layers] == [SparseLinear, SparseLinear, nn.Linear]
    assert [type(a) for a in m.activations][:2] == [KWinners, KWinners] and m.activations[0].k == 6
    m.train()
    h = m.activations[0](m.layers[0](torch.randn(5, 20)))
    assert ((h != 0).sum(dim=1) <= 6).all()
    assert stored_weights(m) == m.layers[0].nnz + m.layers[1].nnz + 30 * 4
    d = build("dense", 20, 30, 4, seed=1)
    assert stored_weights(d) == 20 * 30 + 30 * 30 + 30 * 4 and d(torch.zeros(2, 20)).shape == (2, 4)


def _row(model, clean, score):
    return {"model": model, "accuracy": {"0": {"mean": clean}}, "noise_score": {"mean": score}}


def test_claim_is_computed_from_the_means():
    ok = check_claim([_row("dense", 0.88, 40000), _row("sparse", 0.875, 42000)])
    assert ok["passed"] and ok["score_gap"] == 2000 and ok["clean_gap"] == pytest.approx(-0.005)
    far = check_claim([_row("dense", 0.88, 40000), _row("sparse", 0.86, 45000)])
    assert far["more_robust"] and not far["similar_clean"] and not far["passed"]
    worse = check_claim([_row("dense", 0.88, 40000), _row("sparse", 0.88, 39000)])
    assert worse["similar_clean"] and not worse["more_robust"] and not worse["passed"]


def test_summary_mean_and_sample_std_by_hand():
    trials = [{"model": "dense", "seed": s, "stored_weights": 9, "accuracy": {"0": a, "0.1": a - 0.1},
               "noise_score": n} for s, a, n in ((0, 0.6, 10), (1, 0.8, 14), (2, 0.7, 12))]
    (row,) = summarize(trials)
    assert row["accuracy"]["0"]["mean"] == pytest.approx(0.7) and row["accuracy"]["0"]["std"] == pytest.approx(0.1)
    assert row["noise_score"] == {"mean": 12, "std": 2, "n": 3}


@pytest.mark.parametrize("extra, needle", [
    (["--noise-levels", "-0.1"], "-0.1"),
    (["--noise-levels", "0.1,0"], "noise level 0"),
    (["--noise-levels", "0.1,0.1"], "repeats"),
    (["--percent-on", "0"], "--percent-on 0"),
    (["--percent-on", "1.5"], "1.5"),
    (["--density", "0"], "--density"),
    (["--seeds", "0,0"], "--seeds"),
    (["--epochs", "0"], "--epochs 0"),
])
def test_bad_input_is_one_line(extra, needle, tmp_path, capsys):
    assert_refused(QUICK + extra, tmp_path / "r", capsys, needle)
