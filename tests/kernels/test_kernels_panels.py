"""The panel-by-panel product (`spmm_panel`) and the timed choice between it and the tiled one."""
import pytest
import torch

import sparsenet.kernels.backends as kb
from sparsenet.kernels.backends import BACKENDS
from sparsenet.kernels.codegen_panels import PANEL_MIN
from sparsenet.kernels import tuning
from sparsenet.kernels.tuning import RECHECK, TRIALS, KernelChoice

from test_kernels_backends import _problem, _tol, per_thread_count

# two or more full 64-column panels, then: nothing, one column, the 32 tile, the 32 tile and a
# padded remainder, a padded remainder alone
PANEL_BATCHES = [PANEL_MIN, 129, 160, 191, 200, 256]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("batch", PANEL_BATCHES)
def test_panel_product_is_the_tiled_product_bit_for_bit(batch, parallel, dtype, monkeypatch):
    monkeypatch.setattr(kb, "PARALLEL_MIN_WORK", 0 if parallel else 1 << 62)
    p, w, mask, values, xt, gt, bias = _problem(70, 45, 0.2, batch, seed=batch, dtype=dtype,
                                                 empty_rows=(0, 33, 69), empty_cols=(2,))
    be = BACKENDS.get("numba")
    got = {}
    for mode in ("never", "always"):
        monkeypatch.setattr(kb, "PANELS", mode)
        got[mode] = (be.spmm(p, values, xt, bias), be.spmm(p, values, xt, None), be.spmm_t(p, values, gt),
                     be.linear(p, values, xt.t().contiguous(), bias))
    for a, b in zip(got["never"], got["always"]):
        assert torch.equal(a, b)
    ref = (w @ xt + bias[:, None], w @ xt, w.t() @ gt, (w @ xt + bias[:, None]).t())
    for a, r in zip(got["always"], ref):
        torch.testing.assert_close(a, r, **_tol(dtype))


def test_choice_times_each_candidate_then_keeps_the_fastest():
    choice = KernelChoice(("slow", "fast"))
    cost = {"slow": 2.0, "fast": 1.0}
    ran = []
    for _ in range(2 * TRIALS):
        name = choice.next()
        ran.append(name)
        choice.record(name, cost[name])
    assert ran.count("slow") == ran.count("fast") == TRIALS  # interleaved, TRIALS each
    assert choice.best == "fast"
    choice.record("slow", 0.0)  # a later timing changes nothing
    assert choice.next() == "fast" and choice.best == "fast"


def test_choice_compares_minimums_not_first_calls():
    choice = KernelChoice(("a", "b"))
    times = {"a": [9.0, 1.0, 1.0], "b": [1.5, 1.5, 1.5]}  # a's first call paid a one-off cost
    for i in range(TRIALS):
        for n in ("a", "b"):
            choice.record(n, times[n][i])
    assert choice.best == "a"


def test_choice_is_timed_again_after_recheck_calls_then_twice_as_many(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(tuning.time, "perf_counter", lambda: clock[0])
    cost = {"a": 1.0, "b": 2.0}
    ran = []

    def call(name):  # a kernel that takes cost[name] seconds of the fake clock
        ran.append(name)
        clock[0] += cost[name]
        return name

    choice = KernelChoice(("a", "b"))
    for _ in range(2 * TRIALS + RECHECK):
        assert choice.run(call) in ("a", "b")
    assert choice.best == "a" and choice.rounds == 1 and ran[2 * TRIALS:] == ["a"] * RECHECK
    cost.update(a=3.0)  # the machine changed its mind: "a" is now the slower one
    for _ in range(2 * TRIALS):
        choice.run(call)
    assert choice.best == "b" and choice.rounds == 2 and choice.recheck == 2 * RECHECK
    assert ran[-2 * TRIALS:].count("a") == TRIALS  # the re-timing ran both again


def test_single_candidate_is_chosen_without_timing():
    assert KernelChoice(("only",)).next() == "only"


def test_auto_mode_settles_on_one_kernel_per_pattern_and_batch(monkeypatch):
    monkeypatch.setattr(kb, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(kb, "PANELS", "auto")
    p, w, mask, values, xt, gt, bias = _problem(90, 80, 0.3, 192, seed=3)
    be = BACKENDS.get("numba")
    first = be.spmm(p, values, xt, bias)
    for _ in range(2 * TRIALS + 2):  # every call the same numbers, whichever kernel ran
        assert torch.equal(be.spmm(p, values, xt, bias), first)
    choice = p._cache[("tiled", False, 192, False, "<f4")]
    assert choice.best in ("spmm", "spmm_panel")
    assert all(len(t) == TRIALS for t in choice.times.values())
    be.spmm_t(p, values, gt)  # W^T's product and other batch sizes choose on their own
    be.spmm(p, values, xt[:, :130].contiguous(), bias)
    assert ("tiled", True, 192, False, "<f4") in p._cache and ("tiled", False, 130, False, "<f4") in p._cache
    small = _problem(9, 8, 0.5, PANEL_MIN - 1)
    be.spmm(small[0], small[3], small[4], None)
    assert not small[0]._cache.get(("tiled", False, PANEL_MIN - 1, False, "<f4"))  # one candidate: nothing timed


@pytest.mark.parametrize("batch", [17, 64, 129, 256])
def test_row_major_input_gradient_tries_every_layout_and_gets_the_same_numbers(batch, monkeypatch):
    monkeypatch.setattr(kb, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(kb, "PANELS", "auto")
    p, w, mask, values, xt, gt, bias = _problem(60, 75, 0.3, batch, seed=batch)
    be = BACKENDS.get("numba")
    want = be.spmm_t(p, values, gt).t()
    names = ("spmm_tout", "spmm") + (("spmm_panel",) if batch >= PANEL_MIN else ())
    for _ in range(len(names) * TRIALS + 1):
        got = be.spmm_t_rows(p, values, gt)
        assert got.is_contiguous() and got.shape == (batch, 75) and torch.equal(got, want)
    choice = p._cache[("tiled", True, batch, True, "<f4")]
    assert choice.names == names and choice.best in names
    torch.testing.assert_close(want, gt.t() @ w, **_tol(torch.float32))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("batch", PANEL_BATCHES)
def test_panel_sddmm_matches_dense_and_is_thread_count_independent(batch, dtype, monkeypatch):
    monkeypatch.setattr(kb, "PANELS", "always")
    monkeypatch.setattr(kb, "PARALLEL_MIN_WORK", 0)
    p, w, mask, values, xt, gt, bias = _problem(70, 45, 0.2, batch, seed=batch, dtype=dtype,
                                                 empty_rows=(0, 33, 69), empty_cols=(2,))
    be = BACKENDS.get("numba")
    got = per_thread_count(lambda: be.sddmm(p, gt, xt))
    assert torch.equal(got[0], got[1])
    torch.testing.assert_close(got[0], (gt @ xt.t())[mask], **_tol(dtype))


@pytest.mark.parametrize("K, B, l2, expected", [
    (4096, 128, 2 << 20, True),     # X^T 2 MiB fills a 2 MiB L2, a 1 MiB panel fits half of it
    (4096, 256, 2 << 20, True),
    (4096, 64, 2 << 20, False),     # below PANEL_MIN
    (784, 256, 2 << 20, False),     # X^T (784 KiB) fits the L2 as it is
    (4096, 256, 1 << 20, False),    # a panel would fill a 1 MiB L2 by itself
    (4096, 256, 0, False),          # L2 unknown: the whole-row kernel
])
def test_sddmm_panel_rule(K, B, l2, expected, monkeypatch):
    monkeypatch.setattr(kb, "PANELS", "auto")
    monkeypatch.setattr(kb, "l2_bytes", lambda: l2)
    assert kb.sddmm_uses_panels(K, B, 4) is expected


def test_sddmm_panel_switches_override_the_rule(monkeypatch):
    monkeypatch.setattr(kb, "l2_bytes", lambda: 2 << 20)
    monkeypatch.setattr(kb, "PANELS", "never")
    assert not kb.sddmm_uses_panels(4096, 256, 4)
    monkeypatch.setattr(kb, "PANELS", "always")
    assert kb.sddmm_uses_panels(45, 200, 4) and not kb.sddmm_uses_panels(45, PANEL_MIN - 1, 4)


def test_l2_size_from_sysfs(tmp_path, monkeypatch):
    from sparsenet.kernels import cpu
    for i, (level, kind, size) in enumerate([("1", "Data", "48K"), ("1", "Instruction", "32K"),
                                             ("2", "Unified", "2048K"), ("3", "Unified", "480M")]):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "level").write_text(level + "\n")
        (d / "type").write_text(kind + "\n")
        (d / "size").write_text(size + "\n")
    monkeypatch.setattr(cpu, "_CACHES", tmp_path)
    cpu.l2_bytes.cache_clear()
    try:
        assert cpu.l2_bytes() == 2 << 20
        monkeypatch.setattr(cpu, "_CACHES", tmp_path / "missing")
        cpu.l2_bytes.cache_clear()
        assert cpu.l2_bytes() == 0
    finally:
        cpu.l2_bytes.cache_clear()


def test_decisions_are_logged_with_their_label_and_timings(monkeypatch):
    monkeypatch.setattr(kb, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(kb, "PANELS", "auto")
    p, w, mask, values, xt, gt, bias = _problem(50, 40, 0.3, 150, seed=5)
    start = tuning.mark()
    be = BACKENDS.get("numba")
    for _ in range(2 * TRIALS):
        be.spmm(p, values, xt, bias)
    (d,) = tuning.decisions_since(start)
    assert d["product"] == "W 50x40 @ B=150" and d["chosen"] in ("spmm", "spmm_panel")
    assert set(d["min_ms"]) == {"spmm", "spmm_panel"} and all(v >= 0 for v in d["min_ms"].values())
    assert tuning.decisions_since(tuning.mark()) == []


def test_bench_report_names_the_chosen_kernels():
    from sparsenet.report.bench_report import format_case
    case = {"suite": "mlp", "sizes": [4, 3], "batch": 2, "sparsity": 0.5, "activation": "relu",
            "rows": [{"contender": "sparsenet", "step": 1.0, "speedup": 2.0}],
            "kernel_choices": [{"product": "W 3x4 @ B=200", "chosen": "spmm_panel",
                                "min_ms": {"spmm": 2.5, "spmm_panel": 1.25}}]}
    text = format_case(case)
    assert text.endswith("numba kernels chosen by timing: W 3x4 @ B=200: spmm_panel (spmm 2.5, spmm_panel 1.25 ms)")
    del case["kernel_choices"]
    assert "chosen by timing" not in format_case(case)  # results.json from before the log: unchanged
