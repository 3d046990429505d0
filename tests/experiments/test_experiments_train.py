"""Runs end to end on the synthetic dataset: files, determinism, SIGKILL + resume, divergence."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sparsenet import io
from sparsenet.cli import main
from sparsenet.experiments.train.run import run_train
from sparsenet.experiments.train.config import TrainConfig
from sparsenet.models import MLP

ROOT = Path(__file__).resolve().parents[2]


def cfg(tmp, **kw):
    base = dict(dataset="synthetic", spec="64-32-10", burnin_steps=100, steps=400, budget=300,
                checkpoint_every=100, log_every=50, progress=False, run_dir=str(tmp))
    base.update(kw)
    return TrainConfig(**base)


def _metrics(path):
    rows = [json.loads(l) for l in Path(path, "metrics.jsonl").read_text().splitlines()]
    for r in rows:
        r.pop("seconds", None)
    return rows


def test_run_writes_everything_and_prunes_to_budget(tmp_path):
    r = run_train(cfg(tmp_path / "a"))
    d = tmp_path / "a"
    for f in ("config.json", "metrics.jsonl", "masks.safetensors", "model.safetensors", "results.json",
              "burnin.pt", "snapshots/weights_burnin.safetensors", "snapshots/grads_final.safetensors"):
        assert (d / f).exists(), f
    masks = io.load_tensors(d / "masks.safetensors")
    assert int(masks["layers.0.weight"].sum()) <= 300
    assert r["layers"][0]["live"] == int(masks["layers.0.weight"].sum())
    assert r["test_accuracy"] > 0.5
    assert set(r["phase_seconds"]) == {"burnin", "prune", "sparse"}
    assert not (d / "checkpoint.pt").exists()


def test_same_seed_is_bit_identical(tmp_path):
    run_train(cfg(tmp_path / "a"))
    run_train(cfg(tmp_path / "b"))
    a, b = io.load_tensors(tmp_path / "a/model.safetensors"), io.load_tensors(tmp_path / "b/model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert _metrics(tmp_path / "a") == _metrics(tmp_path / "b")
    run_train(cfg(tmp_path / "c", seed=1))
    c = io.load_tensors(tmp_path / "c/model.safetensors")
    assert not all(torch.equal(a[k], c[k]) for k in a if c[k].shape == a[k].shape)


@pytest.mark.parametrize("engine, kill_at", [("fused", 250), ("fused", 150), ("torch", 250)])
def test_sigkill_then_resume_matches_uninterrupted(tmp_path, engine, kill_at):
    args = ["-m", "sparsenet", "train", "--dataset", "synthetic", "--spec", "64-32-10",
            "--burnin-steps", "200", "--steps", "400", "--budget", "300", "--checkpoint-every", "100",
            "--log-every", "50", "--no-progress", "--engine", engine, "--run-dir"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    fault = [sys.executable, str(ROOT / "tests/faults.py"), "kill-at-step", str(kill_at), "--"]
    killed = subprocess.run(fault + args[2:] + [str(tmp_path / "k")], env=env, capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()
    assert (tmp_path / "k/checkpoint.pt").exists() and not (tmp_path / "k/results.json").exists()
    resumed = subprocess.run([sys.executable] + args + [str(tmp_path / "k"), "--resume"], env=env,
                             capture_output=True)
    assert resumed.returncode == 0, resumed.stderr.decode()
    run_train(cfg(tmp_path / "u", burnin_steps=200, engine=engine))
    a, b = io.load_tensors(tmp_path / "k/model.safetensors"), io.load_tensors(tmp_path / "u/model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert _metrics(tmp_path / "k") == _metrics(tmp_path / "u")
    ra, rb = io.read_json(tmp_path / "k/results.json"), io.read_json(tmp_path / "u/results.json")
    assert ra["test_accuracy"] == rb["test_accuracy"] and ra["live_weights"] == rb["live_weights"]


def test_existing_run_dir_needs_resume(tmp_path, capsys):
    run_train(cfg(tmp_path / "a", steps=50))
    rc = main(["train", "--dataset", "synthetic", "--spec", "64-32-10", "--run-dir", str(tmp_path / "a")])
    assert rc == 2 and "--resume" in capsys.readouterr().err


def test_divergence_stops_and_keeps_last_good_checkpoint(tmp_path, capsys):
    rc = main(["train", "--dataset", "synthetic", "--spec", "64-32-10", "--prune", "none", "--engine", "torch", "--activation", "relu",
               "--batch-size", "16", "--lr", "1e30", "--burnin-steps", "0", "--steps", "400",
               "--checkpoint-every", "1", "--no-progress", "--run-dir", str(tmp_path / "d")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "diverged" in err and len(err.splitlines()) == 1
    state = io.torch_load(tmp_path / "d/checkpoint.pt")
    assert all(bool(torch.isfinite(v).all()) for v in state["model"].values())


def test_adam_minibatch_torch_engine_and_global_sparsity(tmp_path):
    r = run_train(cfg(tmp_path / "a", optimizer="adam", lr=1e-3, batch_size=32, rule="sparsity",
                      sparsity=0.9, scope="global", skip=(), remove_unconnected=False, steps=300))
    assert r["engine"] == "torch" and r["test_accuracy"] > 0.6  # chance is 0.1
    live = sum(l["live"] for l in r["layers"])
    total = sum(l["total"] for l in r["layers"])
    assert live == round(0.1 * total)


def test_final_model_state_dict_loads_into_plain_mlp(tmp_path):
    r = run_train(cfg(tmp_path / "a", remove_unconnected=False))
    sd = io.load_tensors(tmp_path / "a/model.safetensors")
    net = MLP([64, 32, 10], "tanh")
    net.load_state_dict(sd, strict=True)
    assert int((net.layers[0].weight != 0).sum()) == r["layers"][0]["live"]
