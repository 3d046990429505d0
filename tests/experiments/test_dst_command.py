"""`sparsenet dst`: the run directory and report for all five methods, a dense layer made and reported
as such, one-line errors before any work, a killed trial resumed to the identical end (killed between
steps or inside a pattern update), and masked vs CSR execution agreeing."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from sparsenet.cli import main
from sparsenet.dst import DSTHook, drop_fraction
from sparsenet.experiments.dst import DstConfig, run_dst
from sparsenet.io import load_tensors
from sparsenet.train.context import RunContext

METHODS = ["static", "set", "rigl", "snfs", "grow-prune"]
# synthetic data: 64 inputs, 10 classes. At ε = 8 the layers 64→32, 32→16, 16→10 have ER densities
# 8·96/2048 = 0.375, 8·48/512 = 0.75 and 8·26/160 = 1.3: the output layer is dense.
SMALL = ["dst", "--dataset", "synthetic", "--hidden", "32-16", "--epsilon", "8", "--n-train", "300",
         "--steps", "40", "--batch-size", "16", "--delta-t", "10", "--eval-every", "20", "--no-progress"]


def _cfg(run_dir: Path, **kw) -> DstConfig:
    base = dict(dataset="synthetic", hidden="32-16", epsilon=4.0, n_train=300, steps=60, batch_size=16,
                delta_t=10, eval_every=20, checkpoint_every=20, window=2, run_dir=str(run_dir), progress=False)
    return DstConfig(**(base | kw))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("dst") / "run"
    assert main(SMALL + ["--seeds", "0,1", "--run-dir", str(d)]) == 0
    return d, json.loads((d / "results.json").read_text())


def test_the_command_writes_every_trial_the_results_and_the_report(run):
    d, r = run
    assert r["experiment"] == "dst" and list(r["methods"]) == METHODS
    assert sorted(t["id"] for t in r["trials"]) == sorted(f"{m}-s{s}" for m in METHODS for s in (0, 1))
    for name in ("accuracy_vs_step.png", "live_weights.png", "rewired_fraction.png", "weights_hist.png", "report.md"):
        assert (d / name).is_file(), name
    report = (d / "report.md").read_text()
    for m in METHODS:
        assert f"| {m} |" in report
    for t in r["trials"]:
        assert (d / "trials" / t["id"] / "result.json").is_file()
        assert not (d / "trials" / t["id"] / "checkpoint.pt").exists()  # removed when the trial finished
        assert [c["step"] for c in t["curve"]] == [0, 20, 40]
        s = t["seconds"]
        assert s["training_steps"] + s["pattern_updates"] == pytest.approx(s["loop"])
        assert t["memory"]["dense_bytes"] == 4 * (32 * 64 + 32 + 16 * 32 + 16 + 10 * 16 + 10)  # float32 W + b
        assert t["peak_rss_bytes"] > 0


def test_pattern_updates_are_recorded_as_the_methods_define_them(run):
    _, r = run
    by = {t["id"]: t for t in r["trials"]}
    end = 30  # 0.75 x 40 steps: updates at 10, 20 (30 is not before end_step)
    assert by["static-s0"]["updates"] == []
    for m in ("set", "rigl", "snfs", "grow-prune"):
        assert [u["step"] for u in by[f"{m}-s0"]["updates"]] == [10, 20], m
    start = by["static-s0"]["live"]["layers"]
    for m in ("set", "rigl"):  # a constant size per layer, every update
        t = by[f"{m}-s0"]
        assert t["live"]["steps"] == [0, 10, 20]
        assert t["live"]["layers"] == {n: [v[0]] * 3 for n, v in start.items()}
    rigl = by["rigl-s0"]["updates"][0]
    for n, rec in rigl["layers"].items():  # magnitude drop of round(ζ_t · nnz), ζ_t cosine-decayed
        assert rec["dropped"] == rec["grown"] == round(drop_fraction(10, zeta=0.3, end_step=end, decay="cosine")
                                                       * start[n][0])
    assert rigl["rewired"] == pytest.approx(rigl["grown"] / rigl["live"])
    snfs = by["snfs-s0"]  # regrowth moves between layers, the total stays
    assert snfs["live"]["total"] == by["static-s0"]["live"]["total"]
    gp = by["grow-prune-s0"]  # densify (peak 2x by step 8), prune back to the static size
    first = sum(v["live"] for v in gp["updates"][0]["layers"].values())
    assert first > by["static-s0"]["live"]["total"]
    assert gp["live"]["final"] == by["static-s0"]["live"]["final"]


def test_a_layer_denser_than_100_percent_is_dense_and_reported(run):
    d, r = run
    dense = [lp for lp in r["layers"] if lp["dense"]]
    assert [lp["name"] for lp in dense] == ["layers.2.weight"]
    assert dense[0]["wanted_density"] == pytest.approx(8 * 26 / 160) and dense[0]["density"] == 1.0
    assert r["dense_layers"][0]["name"] == "layers.2.weight"
    report = (d / "report.md").read_text()
    assert "layers.2.weight (10×16) would have density 130%: it is dense (nn.Linear) and never rewired" in report
    for t in r["trials"]:
        assert all(set(u["layers"]) == {"layers.0.weight", "layers.1.weight"} for u in t["updates"])
    final = load_tensors(d / "trials" / "set-s0" / "final.safetensors")
    assert torch.equal(final["layers.2.weight.keys"], torch.arange(160))  # every connection of the dense layer


def test_sparsenet_report_rebuilds_the_report(run, tmp_path):
    d, _ = run
    for name in ("report.md", "live_weights.png"):
        (d / name).unlink()
    assert main(["report", str(d)]) == 0
    assert (d / "report.md").is_file() and (d / "live_weights.png").is_file()


@pytest.mark.parametrize("extra, needle", [
    (["--epsilon", "0"], "--epsilon 0"),
    (["--epsilon", "-2"], "--epsilon -2"),
    (["--zeta", "0"], "--zeta 0"),
    (["--zeta", "1"], "--zeta 1"),
    (["--delta-t", "0"], "--delta-t 0"),
    (["--end-step", "41"], "--end-step 41 is beyond training"),
    (["--peak-density", "0.3"], "--peak-density 0.3 is below the final density"),
    (["--start-density", "0.5", "--peak-density", "0.4"], "--peak-density 0.4 is below --start-density 0.5"),
    (["--checkpoint-every", "15"], "--checkpoint-every 15 must be a multiple of --delta-t 10"),
    (["--window", "11"], "--window 11"),
    (["--epsilon", "200"], "--epsilon 200 makes every layer"),
    (["--density", "0.1"], "not both"),
    (["--methods", "set,magic"], "magic"),
])
def test_bad_inputs_are_one_line_errors_before_any_work(extra, needle, tmp_path, capsys):
    d = tmp_path / "run"
    rc = main(SMALL + ["--run-dir", str(d)] + extra)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("sparsenet: error:"), err
    assert needle in err, err
    assert not d.exists()


def _kill_at_train_step(monkeypatch, trial: str, step: int) -> None:
    log, fired = RunContext.log, []

    def log_then_interrupt(self, record):
        log(self, record)
        if not fired and self.out_dir.name == trial and record.get("event") == "train" \
                and record.get("step", 0) >= step:
            fired.append(True)
            raise KeyboardInterrupt

    monkeypatch.setattr(RunContext, "log", log_then_interrupt)


def _kill_in_update(monkeypatch, call: int) -> None:
    update, calls = DSTHook.update, []

    def interrupted_update(self, optimizer, step):
        calls.append(step)
        if len(calls) == call:
            raise KeyboardInterrupt  # in the middle of a pattern update: nothing of it is saved
        return update(self, optimizer, step)

    monkeypatch.setattr(DSTHook, "update", interrupted_update)


@pytest.mark.parametrize("kill", ["between-steps", "in-update"])
def test_a_killed_run_resumes_to_the_identical_end(kill, tmp_path, monkeypatch):
    methods = ("set", "snfs", "grow-prune")
    ref = run_dst(_cfg(tmp_path / "ref", methods=methods), command="test")
    cfg = _cfg(tmp_path / "cut", methods=methods)
    with monkeypatch.context() as mp:
        if kill == "between-steps":
            _kill_at_train_step(mp, "snfs-s0", 30)  # its checkpoint at 20, killed after step 30's log line
        else:
            _kill_in_update(mp, 4 + 3)  # set's 4 updates (10, 20, 30, 40), then snfs's third (at 30)
        with pytest.raises(KeyboardInterrupt):
            run_dst(cfg, command="test")
    cut = tmp_path / "cut" / "trials"
    finished = (cut / "set-s0" / "result.json").read_bytes()
    assert (cut / "snfs-s0" / "checkpoint.pt").exists() and not (cut / "grow-prune-s0").exists()
    got = run_dst(replace(cfg, resume=True), command="test")
    assert (cut / "set-s0" / "result.json").read_bytes() == finished  # a finished trial is not rerun
    for a, b in zip(ref["trials"], got["trials"]):
        assert a["id"] == b["id"]
        assert a["test_accuracy"] == b["test_accuracy"] and a["curve"] == b["curve"]
        assert [u["layers"] for u in a["updates"]] == [u["layers"] for u in b["updates"]]
        fa = load_tensors(tmp_path / "ref" / "trials" / a["id"] / "final.safetensors")
        fb = load_tensors(cut / b["id"] / "final.safetensors")
        assert fa.keys() == fb.keys()
        for k in fa:
            assert torch.equal(fa[k], fb[k]), (a["id"], k)  # the same pattern and bit-identical weights
    losses = [json.loads(x)["loss"] for x in (cut / "snfs-s0" / "metrics.jsonl").read_text().splitlines()
              if json.loads(x)["event"] == "train"]
    ref_losses = [json.loads(x)["loss"] for x in
                  (tmp_path / "ref" / "trials" / "snfs-s0" / "metrics.jsonl").read_text().splitlines()
                  if json.loads(x)["event"] == "train"]
    assert losses == ref_losses  # metrics.jsonl was cut back to the checkpoint: no line twice


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_masked_and_csr_execution_end_with_the_same_masks_and_weights(optimizer, tmp_path):
    kw = dict(methods=("set", "rigl", "snfs", "grow-prune"), steps=40, optimizer=optimizer,
              lr=0.05 if optimizer == "sgd" else 0.01)
    csr = run_dst(_cfg(tmp_path / "csr", **kw), command="test")
    masked = run_dst(_cfg(tmp_path / "masked", execution="masked", **kw), command="test")
    for a, b in zip(csr["trials"], masked["trials"]):
        assert [u["layers"] for u in a["updates"]] == [u["layers"] for u in b["updates"]], a["id"]
        fa = load_tensors(tmp_path / "csr" / "trials" / a["id"] / "final.safetensors")
        fb = load_tensors(tmp_path / "masked" / "trials" / b["id"] / "final.safetensors")
        for k in fa:
            if k.endswith(".keys"):
                assert torch.equal(fa[k], fb[k]), (a["id"], k)  # the same connections
            else:
                torch.testing.assert_close(fa[k], fb[k], rtol=1e-4, atol=1e-5)
        # masked execution holds the dense float32 weights and biases plus a bool mask per sparse layer
        assert b["memory"]["stored_bytes"] == 4 * (32 * 64 + 32 + 16 * 32 + 16 + 10 * 16 + 10) + 2048 + 512 + 160


@pytest.mark.parametrize("fault", [("kill-at-step", "30"), ("kill-in-update", "8")])
def test_sigkill_then_resume_ends_identical(fault, tmp_path):
    """A real SIGKILL (no finally blocks run): during training, or inside a pattern update after its
    first layer was rewired (the 8th CSR rewiring: 2 layers per update, set's updates, then snfs's)."""
    import subprocess
    import sys

    args = SMALL + ["--methods", "set,snfs", "--seeds", "0", "--checkpoint-every", "20"]
    assert main(args + ["--run-dir", str(tmp_path / "ref")]) == 0
    faults = Path(__file__).resolve().parents[1] / "faults.py"
    cut = tmp_path / "cut"
    p = subprocess.run([sys.executable, str(faults), *fault, "--", *args, "--run-dir", str(cut)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == -9, p.stderr[-2000:]
    assert not (cut / "results.json").exists()
    assert main(args + ["--run-dir", str(cut), "--resume"]) == 0
    for trial in ("set-s0", "snfs-s0"):
        fa = load_tensors(tmp_path / "ref" / "trials" / trial / "final.safetensors")
        fb = load_tensors(cut / "trials" / trial / "final.safetensors")
        assert fa.keys() == fb.keys()
        for k in fa:
            assert torch.equal(fa[k], fb[k]), (trial, k)
        ra = json.loads((tmp_path / "ref" / "trials" / trial / "result.json").read_text())
        rb = json.loads((cut / "trials" / trial / "result.json").read_text())
        assert ra["curve"] == rb["curve"] and [u["layers"] for u in ra["updates"]] == [u["layers"] for u in rb["updates"]]
