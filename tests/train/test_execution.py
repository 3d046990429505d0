"""--execution: masked and CSR training give the same weights; auto records its per-layer choices."""
from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from sparsenet.experiments.prune.run import _Trainer
from sparsenet.experiments.prune.config import PruneConfig
from sparsenet.lottery.training import TrainSpec, train_masked
from sparsenet.masks import apply_masks
from sparsenet.models import MLP
from sparsenet.nn import SparseLinear
from sparsenet.train import RunContext, SampleStream
from sparsenet.train.execution import plan_execution, prepare_execution

OPTIMIZERS = {
    "sgd": dict(optimizer="sgd", momentum=0.0, weight_decay=0.0),
    "sgd-momentum": dict(optimizer="sgd", momentum=0.9, weight_decay=0.0),
    "sgd-momentum-wd": dict(optimizer="sgd", momentum=0.9, weight_decay=1e-2),
    "adam": dict(optimizer="adam", momentum=0.0, weight_decay=0.0),
    "adam-wd": dict(optimizer="adam", momentum=0.0, weight_decay=1e-2),
}


def _setup(seed: int = 0):
    """A 12-10-8-4 ReLU MLP whose every layer is pruned to ~40% (and its masks), 64 examples."""
    torch.manual_seed(seed)
    model = MLP([12, 10, 8, 4], activation="relu")
    g = torch.Generator().manual_seed(seed + 1)
    masks = {f"layers.{i}.weight": torch.rand(l.weight.shape, generator=g) < 0.4 for i, l in enumerate(model.layers)}
    apply_masks(model, masks)
    X = torch.randn(64, 12, generator=g)
    Y = torch.randint(0, 4, (64,), generator=g)
    return model, masks, X, Y


def _prune_path(tmp_path, mode: str, opt: dict, steps: int = 25) -> nn.Module:
    model, masks, X, Y = _setup()
    cfg = PruneConfig(dataset="synthetic", model="mlp", batch_size=8, execution=mode, progress=False, **opt)
    trainer = _Trainer(cfg, RunContext(tmp_path / mode, progress=False), SimpleNamespace(x_train=X, y_train=Y))
    try:
        trainer.train(model, steps, 0.05, "retrain", masks=masks)
    finally:
        trainer.ctx.close()
    assert [c["choice"] for c in trainer.executions[0]["layers"]] == ["csr" if mode == "csr" else "masked"] * 3
    return model, masks


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_prune_retraining_masked_equals_csr(tmp_path, opt):
    masked, masks = _prune_path(tmp_path, "masked", OPTIMIZERS[opt])
    csr, _ = _prune_path(tmp_path, "csr", OPTIMIZERS[opt])
    # after training the caller gets its dense nn.Linear layers back, pruned weights exactly zero
    assert all(type(l) is nn.Linear for l in csr.layers)
    for name, m in masks.items():
        assert bool((csr.state_dict()[name][~m] == 0).all())
    start, _, _, _ = _setup()
    moved = (masked.state_dict()["layers.0.weight"] - start.state_dict()["layers.0.weight"]).abs().max()
    assert moved > 1e-3  # training did change the weights
    for k, v in masked.state_dict().items():
        assert_close(csr.state_dict()[k], v, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("opt", ["sgd", "sgd-momentum", "adam"])
def test_lottery_train_masked_masked_equals_csr(tmp_path, opt):
    o = OPTIMIZERS[opt]
    out = {}
    for mode in ("masked", "csr"):
        model, masks, X, Y = _setup(seed=3)
        spec = TrainSpec(steps=20, batch_size=8, lr=0.02, optimizer=o["optimizer"], momentum=o["momentum"],
                         eval_every=10, log_every=10, execution=mode)
        ctx = RunContext(tmp_path / mode, progress=False)
        try:
            res = train_masked(ctx, model, masks, spec, (X, Y), None, (X[:16], Y[:16]), SampleStream(64, 3),
                               phase="t")
        finally:
            ctx.close()
        assert [c["choice"] for c in res["execution"]] == [mode] * 3
        assert all(type(l) is nn.Linear for l in model.layers)
        out[mode] = (model.state_dict(), res["test"]["loss"])
    for k, v in out["masked"][0].items():
        assert_close(out["csr"][0][k], v, rtol=1e-4, atol=1e-6)
    assert out["csr"][1] == pytest.approx(out["masked"][1], rel=1e-4)


def test_auto_picks_the_measured_faster_side_and_records_why():
    model, masks, _, _ = _setup()
    masks["layers.2.weight"] = torch.ones(4, 8, dtype=torch.bool)  # nothing pruned: stays dense, unmeasured
    masks["layers.0.bias"] = torch.tensor([True] * 9 + [False])
    calls = []

    def measure(out_f, in_f, batch, density, optimizer, device):
        calls.append((out_f, in_f, batch, optimizer))
        # the 10x12 layer is faster as CSR, the 8x10 one masked (hand-made timings)
        return {"masked_ms": 2.0, "csr_ms": 1.0 if out_f == 10 else 3.0, "density": density}

    choices = plan_execution(model, masks, "auto", batch_size=32, optimizer="adam", measure=measure)
    by = {c["layer"]: c for c in choices}
    assert calls == [(10, 12, 32, "adam"), (8, 10, 32, "adam")]
    assert by["layers.0.weight"]["choice"] == "csr" and "csr 1 ms < masked 2 ms" in by["layers.0.weight"]["reason"]
    assert by["layers.1.weight"]["choice"] == "masked" and by["layers.1.weight"]["csr_ms"] == 3.0
    assert by["layers.2.weight"]["choice"] == "masked" and "density 1" in by["layers.2.weight"]["reason"]
    assert by["layers.0.bias"]["choice"] == "masked"
    assert by["layers.0.weight"]["density"] == pytest.approx(float(masks["layers.0.weight"].float().mean()), abs=1e-6)
    ex = prepare_execution(model, masks, "auto", batch_size=32, choices=choices)
    assert isinstance(model.layers[0], SparseLinear) and type(model.layers[1]) is nn.Linear
    # the bias mask of the CSR layer and both masked weights are enforced by the one MaskHook
    assert set(ex.hooks[0].masks) == {"layers.0.bias", "layers.1.weight", "layers.2.weight"}
    ex.restore()
    assert type(model.layers[0]) is nn.Linear


def test_fused_engine_makes_auto_pick_csr_without_measuring():
    model, masks, _, _ = _setup()
    choices = plan_execution(model, masks, "auto", batch_size=1, fused=True,
                             measure=lambda *a: pytest.fail("measured"))
    assert {c["choice"] for c in choices} == {"csr"}


def test_timing_is_measured_once_per_machine_and_cached(tmp_path, monkeypatch):
    from sparsenet.train import execution_timing as et

    monkeypatch.setenv("SPARSENET_CACHE_DIR", str(tmp_path / "cache"))
    real, n = et._measure, []
    monkeypatch.setattr(et, "_measure", lambda *a: n.append(a) or real(*a))
    first = et.measured_step_ms(6, 5, 2, 0.3, "sgd")
    again = et.measured_step_ms(6, 5, 2, 0.31, "sgd")  # the same density bucket
    assert len(n) == 1 and first == again
    assert first["masked_ms"] > 0 and first["csr_ms"] > 0 and first["density"] == et.density_bucket(0.3)
    stored = json.loads(et.cache_path("cpu").read_text())
    assert et.cache_path("cpu").parent == tmp_path / "cache" / "execution" and len(stored) == 1
    assert et.density_bucket(0.01) == pytest.approx(2 ** -6.75) and et.density_bucket(1.0) == 1.0


def test_prepared_model_state_dict_loads_into_the_dense_model():
    model, masks, _, _ = _setup()
    dense = copy.deepcopy(model)
    prepare_execution(model, masks, "csr", batch_size=4)
    dense.load_state_dict(model.state_dict(), strict=True)
    for k, v in dense.state_dict().items():
        assert torch.equal(v, model.state_dict()[k])


PRUNE = ["prune", "--dataset", "synthetic", "--model", "mlp", "--spec", "64-16-10", "--n-train", "300",
         "--train-steps", "20", "--retrain-steps", "10", "--sparsities", "0.8", "--no-progress"]
LOTTERY = ["lottery", "--dataset", "synthetic", "--model", "mlp", "--spec", "64-16-10", "--n-train", "400",
           "--n-val", "0", "--steps", "10", "--eval-every", "5", "--levels", "1", "--controls", "reinit",
           "--supermask-criteria", "", "--no-progress", "--no-report"]


def test_cli_prune_execution_csr_is_recorded_and_names_no_run(tmp_path):
    from sparsenet.cli import main

    assert main([*PRUNE, "--execution", "csr", "--out", str(tmp_path)]) == 0
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    res = json.loads((run / "results.json").read_text())
    assert res["execution"] == "csr"
    (phase,) = res["points"][0]["execution"]
    assert [c["choice"] for c in phase["layers"]] == ["csr", "csr"]
    assert phase["layers"][0]["shape"] == [16, 64] and phase["layers"][0]["density"] == pytest.approx(0.2, abs=0.01)
    # not part of the run name, not compared on resume: masked continues the same run directory
    assert main([*PRUNE, "--execution", "masked", "--resume", "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [run.name]


@pytest.mark.parametrize("mode", ["csr", "auto"])
def test_cli_prune_gradual_trains_on_csr_once_pruned(tmp_path, mode):
    from sparsenet.cli import main

    run = tmp_path / mode
    assert main([*PRUNE, "--schedule", "gradual", "--execution", mode, "--run-dir", str(run)]) == 0
    res = json.loads((run / "results.json").read_text())
    (point,) = [p for p in res["points"] if p["criterion"] == "magnitude"]
    (phase,) = point["execution"]
    assert len(phase["layers"]) == 2
    for c in phase["layers"]:
        assert c["choice"] in ("csr", "masked")
        if c["choice"] == "csr":
            assert c["from_step"] >= 1  # dense at step 0, CSR from the first level that prunes it
    if mode == "csr":
        assert [c["choice"] for c in phase["layers"]] == ["csr", "csr"]
    assert point["sparsity"] == pytest.approx(0.8, abs=0.01)


def test_cli_lottery_execution_csr_is_recorded(tmp_path):
    from sparsenet.cli import main

    assert main([*LOTTERY, "--execution", "csr", "--run-dir", str(tmp_path / "r")]) == 0
    res = json.loads((tmp_path / "r" / "results.json").read_text())
    assert res["config"]["execution"] == "csr"
    kinds = {(r["level"], r["kind"]) for r in res["rows"]}
    assert kinds == {(0, "ticket"), (1, "ticket"), (1, "reinit")}
    for r in res["rows"]:
        assert [c["choice"] for c in r["execution"]] == ["csr", "csr"]
    level1 = next(r for r in res["rows"] if r["level"] == 1 and r["kind"] == "ticket")
    assert level1["execution"][0]["density"] == pytest.approx(0.8, abs=0.01)


def test_cli_train_masked_matches_csr(tmp_path):
    from sparsenet.cli import main
    from sparsenet.io import load_tensors

    base = ["train", "--dataset", "synthetic", "--spec", "64-16-10", "--steps", "30", "--burnin-steps", "10",
            "--budget", "300", "--engine", "torch", "--batch-size", "4", "--no-progress"]
    out = {}
    for mode in ("csr", "masked"):
        assert main([*base, "--execution", mode, "--run-dir", str(tmp_path / mode)]) == 0
        res = json.loads((tmp_path / mode / "results.json").read_text())
        assert res["execution"]["mode"] == mode and res["engine"] == "torch"
        assert [c["choice"] for c in res["execution"]["layers"]] == [mode]
        out[mode] = (load_tensors(tmp_path / mode / "model.safetensors"), res["live_weights"], res["layers"])
    assert out["csr"][1:] == out["masked"][1:]  # the same live weights and per-layer records
    for k, v in out["csr"][0].items():
        assert_close(out["masked"][0][k], v, rtol=1e-4, atol=1e-6)


def _gradual_path(tmp_path, mode: str, opt: dict, steps: int = 24):
    from sparsenet.masks import full_masks
    from sparsenet.prune.hooks import ScheduledPruning
    from sparsenet.schedules import gradual

    model, _, X, Y = _setup(seed=5)
    with torch.no_grad():  # start dense: gradual pruning removes weights during the phase
        for l, ref in zip(model.layers, MLP([12, 10, 8, 4], activation="relu").layers):
            l.weight.copy_(ref.weight)
    cfg = PruneConfig(dataset="synthetic", model="mlp", batch_size=8, execution=mode, progress=False, **opt)
    trainer = _Trainer(cfg, RunContext(tmp_path / mode, progress=False), SimpleNamespace(x_train=X, y_train=Y))
    kinds = []

    def replan(c, m):
        trainer.execution.replan(m, c.optimizer, step=c.step)
        kinds.append([type(l).__name__ for l in c.model.layers])

    hook = ScheduledPruning(gradual(0.8, start=0, end=16, every=4), criterion="magnitude", scope="global",
                            on_prune=replan)
    try:
        trainer.train(model, steps, 0.05, "gradual", [hook], masks=full_masks(model), gradual=True)
    finally:
        trainer.ctx.close()
    return model, hook, trainer.executions[0]["layers"], kinds


@pytest.mark.parametrize("opt", ["sgd-momentum-wd", "adam"])
def test_gradual_pruning_moves_layers_onto_csr_with_the_same_result(tmp_path, opt):
    masked, hm, _, kinds_m = _gradual_path(tmp_path, "masked", OPTIMIZERS[opt])
    csr, hc, choices, kinds_c = _gradual_path(tmp_path, "csr", OPTIMIZERS[opt])
    assert len(hm.history) == len(hc.history) == 5  # levels at 0, 4, 8, 12, 16
    assert all(k == ["Linear"] * 3 for k in kinds_m)
    assert kinds_c[0] == ["Linear"] * 3  # step 0 prunes nothing: every layer still dense
    assert kinds_c[-1] == ["SparseLinear"] * 3  # pruned layers moved onto CSR mid-phase
    assert [c["choice"] for c in choices] == ["csr"] * 3 and all(c["from_step"] == 4 for c in choices)
    assert all(type(l) is nn.Linear for l in csr.layers)  # restored after the phase
    for k in hm.masks:
        assert torch.equal(hm.masks[k], hc.masks[k]), k
    for k, v in masked.state_dict().items():
        assert_close(csr.state_dict()[k], v, rtol=1e-4, atol=1e-5)
