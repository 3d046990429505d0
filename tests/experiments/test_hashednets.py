"""`sparsenet reproduce hashednets`: the quick run writes its artifacts, the three contenders store the
same weights (hand-counted), trials resume, the report is rebuilt from the files, bad inputs are one line."""
import pytest
import torch

from sparsenet import io
from sparsenet.cli import main
from tests.refusals import assert_refused
from sparsenet.experiments.hashednets.nets import build, storage, stored_weights
from sparsenet.report.hashednets_report import check_claim, compression_text, summarize

QUICK = ["reproduce", "hashednets", "--quick", "--dataset", "synthetic", "--threads", "1"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hashednets") / "run"
    assert main(QUICK + ["--run-dir", str(out)]) in (0, None)
    return out, io.read_json(out / "results.json")


def test_quick_run_writes_results_report_figure_and_one_trial_each(quick_run):
    out, res = quick_run
    assert res["experiment"] == "hashednets" and res["quick"]
    assert res["compressions"] == [1 / 8, 1 / 64] and res["seeds"] == [0] and res["settings"]["epochs"] == 1
    for name in ("report.md", "accuracy_vs_storage.png", "config.json"):
        assert (out / name).is_file(), name
    trials = sorted(p.parent.name for p in (out / "trials").glob("*/result.json"))
    assert trials == sorted(f"c{c}-{k}-s0" for c in ("0.125", "0.015625") for k in ("hashed", "dense", "sparse"))
    assert len(res["trials"]) == 6 and len(res["summary"]) == 6
    for t in res["trials"]:
        assert 0.0 <= t["test_accuracy"] <= 1.0 and t["steps"] == 2000 // 128
    # synthetic prototypes are easy: every contender learns something above chance (10 classes)
    assert max(t["test_accuracy"] for t in res["trials"]) > 0.5
    text = (out / "report.md").read_text()
    verdict = "PASS" if res["claim"]["passed"] else "FAIL"
    assert f"**{verdict}**: hashed beats equal-storage dense" in text
    assert ("- [x]" if res["claim"]["passed"] else "- [ ]") in text
    assert "| 1/64 | hashed | 64-1000-10 |" in text


def test_stored_counts_are_equal_across_contenders_in_the_run(quick_run):
    _, res = quick_run
    for c in res["compressions"]:
        rows = {r["contender"]: r for r in res["summary"] if r["compression"] == c}
        assert rows["hashed"]["stored_weights"] == rows["sparse"]["stored_weights"]
        dense, hashed = rows["dense"]["stored_weights"], rows["hashed"]["stored_weights"]
        assert dense <= hashed < dense + (64 + 10)  # the widest dense net that fits


def test_stored_counts_by_hand_784_1000_10_at_1_64():
    # K1 = round(784*1000/64) = 12250, K2 = round(1000*10/64) = round(156.25) = 156: S = 12406.
    # dense: 794*h <= 12406 -> h = 15 (794*15 = 11910; 794*16 = 12704 is too many).
    expect = {"hashed": (12406, "784-1000-10", 1010), "sparse": (12406, "784-1000-10", 1010),
              "dense": (11910, "784-15-10", 25)}
    for contender, (weights, shape, biases) in expect.items():
        s = storage(contender, 784, 1000, 10, 1 / 64)
        assert (s["stored_weights"], s["shape"], s["biases"]) == (weights, shape, biases)
        model = build(contender, 784, 1000, 10, 1 / 64, seed=3)
        assert stored_weights(model) == weights
        assert model(torch.zeros(2, 784)).shape == (2, 10)
    hashed = build("hashed", 784, 1000, 10, 1 / 64, seed=3)
    assert [layer.buckets for layer in hashed.layers] == [12250, 156]
    assert hashed.layers[0].seed != hashed.layers[1].seed
    sparse = build("sparse", 784, 1000, 10, 1 / 64, seed=3)
    assert [layer.values.numel() for layer in sparse.layers] == [12250, 156]


def test_resume_skips_finished_trials_and_reruns_a_missing_one(quick_run, tmp_path, capsys):
    out, first = quick_run
    assert main(QUICK + ["--run-dir", str(out)]) == 2  # a directory holding a run needs --resume
    assert "--resume" in capsys.readouterr().err
    assert main(QUICK + ["--run-dir", str(out), "--resume"]) in (0, None)
    assert io.read_json(out / "results.json")["skipped_trials"] == 6
    (out / "trials" / "c0.015625-dense-s0" / "result.json").unlink()
    assert main(QUICK + ["--run-dir", str(out), "--resume"]) in (0, None)
    again = io.read_json(out / "results.json")
    assert again["skipped_trials"] == 5
    acc = {(t["compression"], t["contender"]): t["test_accuracy"] for t in again["trials"]}
    assert acc == {(t["compression"], t["contender"]): t["test_accuracy"] for t in first["trials"]}  # same seed, same run


def test_report_command_rebuilds_report_and_figure(quick_run):
    out, _ = quick_run
    (out / "report.md").unlink()
    (out / "accuracy_vs_storage.png").unlink()
    assert main(["report", str(out)]) in (0, None)
    assert (out / "report.md").is_file() and (out / "accuracy_vs_storage.png").read_bytes()[:4] == b"\x89PNG"


def _rows(gaps, base=0.8):
    rows = []
    for c, gap in gaps:
        rows.append({"compression": c, "contender": "dense", "mean": base})
        rows.append({"compression": c, "contender": "hashed", "mean": base + gap})
    return rows


def test_claim_is_computed_from_the_means():
    ok = check_claim(_rows([(1 / 8, 0.01), (1 / 16, 0.02), (1 / 64, 0.05)]))
    assert ok["passed"] and [round(g["gap"], 6) for g in ok["gaps"]] == [0.01, 0.02, 0.05]
    shrinking = check_claim(_rows([(1 / 8, 0.05), (1 / 64, 0.01)]))
    assert shrinking["hashed_beats_dense"] and not shrinking["gap_grows"] and not shrinking["passed"]
    loses = check_claim(_rows([(1 / 8, -0.01), (1 / 64, 0.04)]))
    assert not loses["hashed_beats_dense"] and loses["gap_grows"] and not loses["passed"]


def test_summary_mean_and_sample_std_by_hand():
    trials = [{"compression": 0.5, "contender": "hashed", "seed": s, "shape": "4-2-2", "stored_weights": 5,
               "biases": 4, "test_accuracy": a} for s, a in ((0, 0.6), (1, 0.8), (2, 0.7))]
    (row,) = summarize(trials)
    assert row["n"] == 3 and row["mean"] == pytest.approx(0.7) and row["std"] == pytest.approx(0.1)
    assert compression_text(1 / 64) == "1/64" and compression_text(0.3) == "0.3"


@pytest.mark.parametrize("extra, needle", [
    (["--compressions", "0"], "--compressions"),
    (["--compressions", "0.125,1.5"], "1.5"),
    (["--compressions", "-0.25"], "-0.25"),
    (["--compressions", "0.125,0.125"], "repeats"),
    (["--seeds", "0,0"], "--seeds"),
    (["--epochs", "0"], "--epochs 0"),
])
def test_bad_input_is_one_line(extra, needle, tmp_path, capsys):
    assert_refused(QUICK + extra, tmp_path / "r", capsys, needle)
