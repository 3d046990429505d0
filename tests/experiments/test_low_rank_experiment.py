"""`sparsenet reproduce low-rank`: the quick run writes its artifacts, the rank of a fraction (by hand),
trials resume, the report is rebuilt from the files, the claim comes from the numbers, bad inputs are
one line."""
import pytest
import torch

from sparsenet import io
from sparsenet.cli import main
from tests.refusals import assert_refused
from sparsenet.experiments.low_rank.nets import build, rank_for_fraction, spatial_shape
from sparsenet.nn import LowRankLinear
from sparsenet.report.low_rank_report import check_claim, summarize

QUICK = ["reproduce", "low-rank", "--quick", "--dataset", "synthetic", "--threads", "1"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("low_rank") / "run"
    assert main(QUICK + ["--run-dir", str(out)]) in (0, None)
    return out, io.read_json(out / "results.json")


def test_quick_run_writes_results_report_figure_and_one_trial_each(quick_run):
    out, res = quick_run
    assert res["experiment"] == "low-rank" and res["quick"]
    assert res["fractions"] == [0.5, 0.9] and res["seeds"] == [0] and res["settings"]["epochs"] == 1
    for name in ("report.md", "accuracy_vs_fraction.png", "config.json"):
        assert (out / name).is_file(), name
    trials = sorted(p.parent.name for p in (out / "trials").glob("*/result.json"))
    assert trials == sorted(["dense-s0"] + [f"{d}-f{f}-s0" for d in ("se", "gaussian", "dct", "pca")
                                            for f in ("0.5", "0.9")])
    ranks = {(t["dictionary"], t["fraction"]): t["rank"] for t in res["trials"]}
    # synthetic inputs have 64 features: round(0.5 * 64) = 32, round(0.1 * 64) = round(6.4) = 6
    assert ranks[("se", 0.5)] == 32 and ranks[("pca", 0.9)] == 6 and ranks[("dense", None)] == 64
    learned = {(t["dictionary"], t["fraction"]): t["first_layer_learned_weights"] for t in res["trials"]}
    assert learned[("dct", 0.9)] == 6 * 300 and learned[("dense", None)] == 64 * 300
    for t in res["trials"]:
        assert 0.0 <= t["test_accuracy"] <= 1.0 and t["steps"] == 2000 // 128
    assert max(t["test_accuracy"] for t in res["trials"]) > 0.5  # synthetic prototypes are easy
    text = (out / "report.md").read_text()
    verdict = "PASS" if res["claim"]["passed"] else "FAIL"
    assert f"**{verdict}**: predicting ≥ 75%" in text and ("- [x]" if res["claim"]["passed"] else "- [ ]") in text
    assert "| dense | — | 0% | — | 19,200 |" in text and "| pca | 90% | 90.62% | 6 | 1,800 |" in text


def test_rank_from_fraction_by_hand():
    # 784 inputs, V only learned: fraction = 1 - rank / 784.
    # 0.9 -> round(78.4) = 78 (fraction 1 - 78/784 = 0.90051); 0.95 -> round(39.2) = 39; 0.75 -> 196.
    assert [rank_for_fraction(784, f) for f in (0.5, 0.75, 0.9, 0.95)] == [392, 196, 78, 39]
    assert rank_for_fraction(10, 0.99) == 1  # round(0.1) = 0 is clamped to one dictionary column
    layer = LowRankLinear(784, 300, rank_for_fraction(784, 0.9), dictionary="dct", input_shape=(28, 28))
    assert layer.learned_parameters == 78 * 300
    assert layer.fraction_predicted == pytest.approx(1 - 78 / 784)
    assert spatial_shape((1, 28, 28)) == (28, 28) and spatial_shape((64,)) == (64,)


def test_built_net_freezes_the_dictionary_and_trains_v():
    pca_data = torch.randn(50, 16, generator=torch.Generator().manual_seed(0))
    for d in ("se", "gaussian", "dct", "pca"):
        net = build(d, 16, 5, 3, 4, seed=1, input_shape=(4, 4), pca_data=pca_data)
        names = {n for n, _ in net.named_parameters()}
        assert "layers.0.V" in names and "layers.0.U" not in names, d
        assert net(torch.zeros(2, 16)).shape == (2, 3)
    dense = build(None, 16, 5, 3, 16, seed=1, input_shape=(4, 4))
    assert dense.layers[0].weight.shape == (5, 16)


def test_resume_skips_finished_trials_and_reruns_a_missing_one(quick_run, capsys):
    out, first = quick_run
    assert main(QUICK + ["--run-dir", str(out)]) == 2  # a directory holding a run needs --resume
    assert "--resume" in capsys.readouterr().err
    (out / "trials" / "se-f0.9-s0" / "result.json").unlink()
    assert main(QUICK + ["--run-dir", str(out), "--resume"]) in (0, None)
    again = io.read_json(out / "results.json")
    assert again["skipped_trials"] == 8
    acc = {(t["dictionary"], t["fraction"]): t["test_accuracy"] for t in again["trials"]}
    assert acc == {(t["dictionary"], t["fraction"]): t["test_accuracy"] for t in first["trials"]}


def test_report_command_rebuilds_report_and_figure(quick_run):
    out, _ = quick_run
    (out / "report.md").unlink()
    (out / "accuracy_vs_fraction.png").unlink()
    assert main(["report", str(out)]) in (0, None)
    assert (out / "report.md").is_file() and (out / "accuracy_vs_fraction.png").read_bytes()[:4] == b"\x89PNG"


def _trial(d, f, acc, seed=0):
    return {"dictionary": d, "fraction": f, "seed": seed, "rank": 1, "fraction_predicted": f or 0.0,
            "first_layer_learned_weights": 1, "shape": "4-2-2", "test_accuracy": acc}


def test_claim_is_computed_from_the_means():
    dense = [_trial("dense", None, 0.85)]
    ok = check_claim(summarize(dense + [_trial("se", 0.75, 0.845), _trial("dct", 0.75, 0.80), _trial("se", 0.5, 0.7)]))
    assert ok["passed"] and ok["best"] == "se" and ok["fraction"] == 0.75 and ok["gap"] == pytest.approx(-0.005)
    far = check_claim(summarize(dense + [_trial("se", 0.75, 0.835), _trial("se", 0.9, 0.86)]))
    assert not far["passed"] and far["gap"] == pytest.approx(-0.015)  # only the 75% point counts
    above = check_claim(summarize(dense + [_trial("pca", 0.9, 0.845)]))
    assert above["passed"] and above["fraction"] == 0.9  # no 75% run: the smallest fraction above it
    assert not check_claim(summarize(dense + [_trial("se", 0.5, 0.9)]))["passed"]  # nothing at >= 75%


def test_summary_mean_and_sample_std_by_hand():
    (row,) = summarize([_trial("se", 0.5, a, s) for s, a in ((0, 0.6), (1, 0.8), (2, 0.7))])
    assert row["n"] == 3 and row["mean"] == pytest.approx(0.7) and row["std"] == pytest.approx(0.1)


@pytest.mark.parametrize("extra, needle", [
    (["--fractions", "0"], "--fractions"),
    (["--fractions", "0.5,1"], "1"),
    (["--fractions", "-0.25"], "-0.25"),
    (["--fractions", "1.5"], "1.5"),
    (["--fractions", "0.5,0.5"], "repeats"),
    (["--dictionaries", "wavelet"], "wavelet"),
    (["--dictionaries", "se,svd"], "svd"),
    (["--seeds", "0,0"], "--seeds"),
])
def test_bad_input_is_one_line(extra, needle, tmp_path, capsys):
    assert_refused(QUICK + extra, tmp_path / "r", capsys, needle)
