"""`sparsenet bench`: interleaved min-timing, results.json/table.md, resume, bad input."""
import json

import pytest

from sparsenet.bench import timing
from sparsenet.cli import main
from sparsenet.experiments.bench.run import BenchConfig, run_bench


def test_time_interleaved_keeps_the_minimum_per_phase_and_interleaves(monkeypatch):
    clock = [0.0]
    calls = []
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])

    def fn(name, durations):
        it = iter(durations)

        def run():
            calls.append(name)
            clock[0] += next(it)
        return run
    cases = {"a": {"x": fn("a", [9, 9, 0.003, 0.001, 0.002])}, "b": {"x": fn("b", [9, 9, 0.010, 0.004, 0.020])}}
    ms = timing.time_interleaved(cases, repeats=3, warmup=2)
    assert ms == {"a": {"x": pytest.approx(1.0)}, "b": {"x": pytest.approx(4.0)}}
    assert calls == ["a", "a", "b", "b", "a", "b", "a", "b", "a", "b"]  # warm-ups, then rounds alternate


def test_warm_up_lasts_until_the_kernel_choices_it_started_have_settled():
    from sparsenet.kernels.tuning import TRIALS, KernelChoice

    made, ran = [], []

    def step():  # like a layer whose first call creates a three-way kernel choice
        if not made:
            made.append(KernelChoice(("a", "b", "c")))
        made[0].run(ran.append)
    timing.time_interleaved({"s": {"step": step}}, repeats=1, warmup=1)
    assert made[0].best is not None  # settled during the warm-up, so the timed call ran the chosen kernel
    assert len(ran) == 3 * TRIALS + 1 and ran[-1] == made[0].best


def test_warm_up_does_not_wait_for_choices_it_did_not_start():
    from sparsenet.kernels.tuning import KernelChoice

    other = KernelChoice(("x", "y"))  # started elsewhere, never run again
    calls = []
    timing.time_interleaved({"s": {"step": lambda: calls.append(1)}}, repeats=1, warmup=2)
    assert len(calls) == 3 and other.best is None


def _cfg(tmp_path, **kw):
    base = dict(shapes=("24x40x5", "24x40x1"), densities=(0.25,), contenders=("dense", "torch.sparse", "sparsenet"),
                mlp="16-32-10", mlp_batches=(4, 1), mlp_sparsities=(0.9,), repeats=1, warmup=1,
                out=str(tmp_path / "bench"))
    base.update(kw)
    return BenchConfig(**base)


def test_run_bench_writes_every_case_with_ratios_against_dense(tmp_path):
    res = run_bench(_cfg(tmp_path))
    on_disk = json.loads((tmp_path / "bench" / "results.json").read_text())
    assert on_disk["cases"].keys() == res["cases"].keys() == {
        "layer 24x40x5 d=0.25", "layer 24x40x1 d=0.25", "mlp 16-32-10 B=4 s=0.9", "mlp 16-32-10 B=1 s=0.9"}
    layer = res["cases"]["layer 24x40x5 d=0.25"]
    assert [r["contender"] for r in layer["rows"]] == ["dense", "torch.sparse", "sparsenet"]
    for r in layer["rows"]:
        assert all(r[k] > 0 for k in ("fwd", "dX", "dW", "update", "total", "total_fm"))
        assert r["bwd"] == pytest.approx(r["dX"] + r["dW"], abs=1e-3)
    dense = layer["rows"][0]
    assert dense["speedup_total"] == 1.0
    sn = layer["rows"][2]
    # ratios are rounded to 2 decimals and times to 4: allow both roundings
    assert sn["speedup_total"] == pytest.approx(dense["total"] / sn["total"], rel=0.01, abs=0.006)
    mlp1 = res["cases"]["mlp 16-32-10 B=1 s=0.9"]
    assert [r["contender"] for r in mlp1["rows"]] == ["dense", "torch.sparse", "sparsenet", "sparsenet-fused"]
    assert res["numba_compile_seconds"] >= 0 and res["versions"]["torch"].startswith("2.13")
    table = (tmp_path / "bench" / "table.md").read_text()
    assert "layer 24x40, batch 5, density 0.25" in table and "| sparsenet-fused |" in table


def test_finished_cases_are_kept_on_rerun_and_dropped_when_settings_change(tmp_path):
    cfg = _cfg(tmp_path, mlp_batches=(4,), shapes=("24x40x5",))
    run_bench(cfg)
    path = tmp_path / "bench" / "results.json"
    data = json.loads(path.read_text())
    data["cases"]["layer 24x40x5 d=0.25"]["marker"] = "kept"
    path.write_text(json.dumps(data))
    again = run_bench(cfg)
    assert again["cases"]["layer 24x40x5 d=0.25"]["marker"] == "kept"
    changed = run_bench(_cfg(tmp_path, mlp_batches=(4,), shapes=("24x40x5",), repeats=2))
    assert "marker" not in changed["cases"]["layer 24x40x5 d=0.25"]


@pytest.mark.parametrize("argv, message", [
    (["--shapes", "12x3"], "bad shape '12x3': write OUTxINxBATCH"),
    (["--densities", "0.1,1.5"], "every entry must be in (0, 1), got 1.5"),
    (["--contenders", "dense,blas"], "unknown layer contender 'blas'; valid layer contenders: dense,"),
    (["--suite", "inference", "--inference-models", "784-x"], "invalid --inference-models 784-x: invalid layer spec '784-x'"),
    (["--suite", "inference", "--inference-sparsities", "0.9,1"], "every entry must be in (0, 1), got 1"),
    (["--suite", "inference", "--inference-batches", "0"], "--inference-batches"),
])
def test_bad_input_is_one_line(tmp_path, capsys, argv, message):
    rc = main(["bench", "--out", str(tmp_path / "b"), "--suite", "layer", "--shapes", "8x8x2", *argv])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1


def test_report_rebuilds_the_bench_tables_from_results_json(tmp_path):
    from sparsenet.report import write_report

    cfg = _cfg(tmp_path, suite="layer", shapes=("24x40x5",))
    run_bench(cfg)
    (written,) = write_report(tmp_path / "bench")
    assert written.name == "report.md"
    assert written.read_text() == (tmp_path / "bench" / "table.md").read_text()


def test_inference_suite_times_every_contender_on_the_same_pruned_model(tmp_path):
    cfg = _cfg(tmp_path, suite="inference", inference_models=("20-30-5",), inference_batches=(1, 3),
               inference_sparsities=(0.9,))
    res = run_bench(cfg)
    assert set(res["cases"]) == {"inference 20-30-5 B=1 s=0.9", "inference 20-30-5 B=3 s=0.9"}
    case = res["cases"]["inference 20-30-5 B=3 s=0.9"]
    assert [r["contender"] for r in case["rows"]] == ["dense", "torch.sparse", "sparsenet", "sparsenet-checkpoint"]
    # layerwise magnitude pruning keeps 10% of each layer (rounded per layer)
    assert case["weights"] == 20 * 30 + 30 * 5 and case["nnz"] == 60 + 15
    assert all(r["forward"] > 0 for r in case["rows"]) and case["rows"][0]["speedup"] == 1.0
    table = (tmp_path / "bench" / "table.md").read_text()
    assert "inference, MLP 20-30-5 magnitude-pruned to sparsity 0.9 (75 of 750 weights), batch 3" in table


def test_inference_contenders_compute_the_pruned_models_function():
    import torch

    from sparsenet.bench.inference import inference_cases, pruned_mlp
    from sparsenet.nn import SparseLinear

    model, masks = pruned_mlp([12, 16, 4], 0.75, seed=3)
    for name, layer in zip(sorted(masks), model.layers):
        assert torch.equal(layer.weight != 0, masks[name])  # the dense contender holds the zeros
    cases, facts = inference_cases([12, 16, 4], 0.75, 5, seed=3)  # asserts every output equals dense's
    outs = {n: fn() for n, fn in cases.items()}
    assert all(o.shape == (5, 4) and o.grad_fn is None for o in outs.values())
    assert facts == {"nnz": 48 + 16, "weights": 12 * 16 + 16 * 4}
    for name in ("sparsenet", "sparsenet-checkpoint"):  # the loaded model runs SparseLinear layers
        assert all(isinstance(m, SparseLinear) for m in cases[name].model.layers)
    assert [m.kernel for m in cases["torch.sparse"].model.layers] == ["torch", "torch"]
