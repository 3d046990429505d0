"""Early-bird and edge-popup inside `sparsenet lottery` (tiny synthetic runs), and their report."""
import pytest
import torch

from sparsenet import io
from sparsenet.experiments.lottery.run import run_lottery
from sparsenet.experiments.lottery.config import LotteryConfig
from sparsenet.report import write_report


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("extras")
    cfg = LotteryConfig(dataset="synthetic", model="mlp", spec="64-48-10", steps=120, eval_every=40, n_val=200,
                        batch_size=32, levels=2, rate=0.5, controls=("reinit",), progress=False, run_dir=str(d),
                        early_bird=True, eb_every=10, eb_window=2, eb_threshold=0.2,
                        eb_structure=("unstructured", "neuron"), eb_retrain=("rewind", "continue"), edge_popup_k=(10.0, 50.0),
                        edge_popup_init=("signed_constant",), neuron_vs_weight=True, edge_popup_steps=60)
    return d, run_lottery(cfg)


def test_early_bird_ticket_has_the_imp_level_counts(run):
    d, r = run
    eb = {(row["structure"], row["retrain"]): row for row in r["early_bird"]}
    un = eb[("unstructured", "rewind")]
    imp = io.load_tensors(d / "seed0/level02/ticket/masks.safetensors")
    got = io.load_tensors(next(d.glob("seed0/extras/early_bird_unstructured_rewind_*")) / "masks.safetensors")
    assert {n: int(m.sum()) for n, m in got.items()} == {n: int(m.sum()) for n, m in imp.items()}
    assert un["density"] == pytest.approx(un["imp_density"])
    assert 0 < un["draw_step"] <= 120 and un["draw_step"] % 10 == 0
    assert un["eb_cost_steps"] == pytest.approx(un["draw_step"] + 120 * un["density"])
    assert len(un["distances"]) == un["draw_step"] // 10
    # continue: same draw (same dense run), sparse training only from the draw to step 120
    co = eb[("unstructured", "continue")]
    assert co["draw_step"] == un["draw_step"]
    assert co["eb_cost_steps"] == pytest.approx(co["draw_step"] + (120 - co["draw_step"]) * co["density"])
    # neuron-level: whole rows of the hidden layer are off, and their columns in the next layer
    nm = io.load_tensors(next(d.glob("seed0/extras/early_bird_neuron_rewind_*")) / "masks.safetensors")
    rows_on = nm["layers.0.weight"].all(dim=1)
    assert int(rows_on.sum()) == 24 and (nm["layers.0.weight"].any(dim=1) == rows_on).all()
    assert torch.equal(nm["layers.1.weight"].all(dim=0), rows_on)


def test_edge_popup_rows_and_equal_size_neuron_pruning(run):
    _, r = run
    rows = {(x["mode"], x["k"]): x for x in r["edge_popup"]}
    assert set(rows) == {("weight", 10.0), ("weight", 50.0), ("neuron", 10.0), ("neuron", 50.0)}
    total = 64 * 48 + 48 * 10
    assert rows[("weight", 50.0)]["total_params"] == total
    for k in (10.0, 50.0):  # same effective size within a hidden unit's worth of weights
        assert abs(rows[("neuron", k)]["effective_params"] - rows[("weight", k)]["effective_params"]) <= 64 + 10
    assert rows[("weight", 50.0)]["accuracy"] > 0.3  # chance is 0.1: scores alone learn


def test_report_reads_only_run_files(run):
    d, _ = run
    files = {p.name for p in write_report(d)}
    assert {"ticket_plot.png", "early_stop.png", "learning_speed.png", "mask_overlap.png", "edge_popup.png", "early_bird.png",
            "report.md"} <= files
    md = (d / "report.md").read_text()
    assert "| level | % remaining | ticket | reinit |" in md and "## early-bird" in md and "## edge-popup" in md
