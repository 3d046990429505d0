"""`sparsenet reproduce seed-figure-rnn`: a tiny run writes its rows, report and figures; the sparse
variant keeps exactly its budgets as SparseLinear; trials resume; sequences are read row by row;
bad inputs are one line."""
import pytest
import torch

from sparsenet import io
from sparsenet.cli import main
from sparsenet.data.dataset import Dataset
from sparsenet.experiments.seed_figure_rnn.run import as_sequences, live_counts, prune_to_sparse, top_magnitude_mask
from sparsenet.nn import RNNClassifier, SparseLinear

# synthetic: 64 features read as 64 steps of one value; widths 4 (kept whole) and 12 (pruned)
TINY = ["reproduce", "seed-figure-rnn", "--dataset", "synthetic", "--widths", "4,12", "--input-budget", "6",
        "--recurrent-budget", "20", "--burnin-samples", "32", "--samples", "64", "--batch-size", "16",
        "--n-test", "100", "--threads", "1", "--no-progress"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sfr") / "run"
    assert main(TINY + ["--run-dir", str(out)]) in (0, None)
    return out, io.read_json(out / "results.json")


def test_tiny_run_writes_rows_report_and_figures(tiny_run):
    out, res = tiny_run
    assert res["experiment"] == "seed-figure-rnn" and res["sequence"] == {"steps": 64, "values_per_step": 1}
    assert [(r["width"], r["variant"]) for r in res["rows"]] == [(4, "dense"), (4, "sparse"), (12, "dense"),
                                                                 (12, "sparse")]
    for name in ("report.md", "accuracy.png", "speed.png", "config.json"):
        assert (out / name).is_file(), name
    for r in res["rows"]:
        assert r["steps"] == 32 // 16 + 64 // 16 and r["n_test"] == 100 and 0 <= r["test_accuracy"] <= 1
        assert set(r["phase_seconds"]) == ({"burnin", "dense"} if r["variant"] == "dense" else
                                           {"burnin", "prune", "sparse"})
        assert r["train_seconds"] == pytest.approx(sum(r["phase_seconds"].values()))
        assert (out / r["run_dir"] / "metrics.jsonl").is_file()
    text = (out / "report.md").read_text()
    assert "sparse accuracy within 2 points of dense at every width ≥ 64" in text
    assert "dense/sparse training-time ratio ≥ 20 at the largest width" in text
    assert "the 6 largest |w| of W_ih and the 20 largest of W_hh" in text


def test_sparse_rows_keep_exactly_the_budgets(tiny_run):
    _, res = tiny_run
    rows = {(r["width"], r["variant"]): r for r in res["rows"]}
    # width 4: W_ih 4x1 = 4 <= 6 and W_hh 16 <= 20 stay whole; width 12: 6 + 20 of 12 + 144
    assert rows[(4, "sparse")]["hidden_live_weights"] == rows[(4, "dense")]["hidden_live_weights"] == 4 + 16
    assert rows[(12, "dense")]["hidden_live_weights"] == 12 + 144
    assert rows[(12, "sparse")]["hidden_live_weights"] == 6 + 20
    assert rows[(12, "sparse")]["output_live_weights"] == 10 * 12  # the readout stays dense


def test_resume_reuses_every_finished_trial(tiny_run, capsys):
    out, res = tiny_run
    assert main(TINY + ["--run-dir", str(out), "--resume"]) in (0, None)
    again = io.read_json(out / "results.json")
    assert again["skipped_trials"] == 4 and again["rows"] == res["rows"]
    assert "4 finished trial(s) reused" in capsys.readouterr().err


def test_top_magnitude_mask_keeps_the_largest_exactly():
    w = torch.tensor([[0.1, -3.0, 0.5], [2.0, -0.2, 0.0]])
    assert top_magnitude_mask(w, 2).tolist() == [[False, True, False], [True, False, False]]
    assert top_magnitude_mask(w, 6).all() and top_magnitude_mask(w, 100).all()
    big = torch.randn(300, 200)
    m = top_magnitude_mask(big, 777)
    assert int(m.sum()) == 777 and big.abs()[m].min() >= big.abs()[~m].max()


def test_pruned_model_equals_its_masked_dense_twin_forward_and_backward():
    torch.manual_seed(0)
    model = RNNClassifier(3, 9, 4, seq_len=5)
    twin = RNNClassifier(3, 9, 4, seq_len=5)
    twin.load_state_dict(model.state_dict())
    masks = {n: top_magnitude_mask(getattr(twin.rnn, n).weight, b) for n, b in (("ih", 7), ("hh", 30))}
    with torch.no_grad():
        for n, m in masks.items():
            getattr(twin.rnn, n).weight.mul_(m)
    prune_to_sparse(model, 7, 30)
    assert isinstance(model.rnn.ih, SparseLinear) and model.rnn.ih.nnz == 7 and model.rnn.hh.nnz == 30
    x = torch.randn(2, 15)
    y1, y2 = model(x), twin(x)
    torch.testing.assert_close(y1, y2, atol=1e-6, rtol=1e-5)
    y1.square().sum().backward()
    y2.square().sum().backward()
    dense_grad = model.rnn.hh.values.grad
    row, col = model.rnn.hh.row, model.rnn.hh.col
    torch.testing.assert_close(dense_grad, twin.rnn.hh.weight.grad[row, col], atol=1e-6, rtol=1e-5)
    counts = live_counts(model)
    assert counts["hidden_live_weights"] == 37 and counts["output_live_weights"] == 36
    assert counts["live_hidden_units"] <= 9


def test_images_are_read_row_by_row_with_channels_side_by_side():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)  # (N, C, H, W)
    ds = Dataset("toy", x, torch.tensor([0, 1]), x.clone(), torch.tensor([1, 0]), 2, source="test")
    seq, steps, per = as_sequences(ds)
    assert (steps, per) == (4, 15)
    rows = seq.x_train.reshape(2, 4, 15)
    # step t of example n holds row t of every channel: channel 0's five values, then channel 1's ...
    assert rows[1, 2].tolist() == torch.cat([x[1, c, 2] for c in range(3)]).tolist()
    vec = Dataset("v", torch.randn(3, 7), torch.zeros(3, dtype=torch.long), torch.randn(2, 7),
                  torch.zeros(2, dtype=torch.long), 2, source="test")
    assert as_sequences(vec)[1:] == (7, 1)


@pytest.mark.parametrize("args, needle", [
    (["--input-budget", "0"], "--input-budget 0"),
    (["--recurrent-budget", "-5"], "--recurrent-budget -5"),
    (["--widths", "16,16"], "--widths 16,16 repeats a value"),
    (["--samples", "8", "--batch-size", "32"], "less than one batch"),
    (["--optimizer", "lbfgs"], "--optimizer lbfgs"),
])
def test_bad_inputs_are_one_line_errors(args, needle, capsys, tmp_path):
    rc = main(["reproduce", "seed-figure-rnn", "--dataset", "synthetic", "--out", str(tmp_path)] + args)
    err = capsys.readouterr().err.strip()
    assert rc == 2 and needle in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # nothing was started


def test_the_recurrent_learning_rate_scales_with_its_fan_in_only():
    from sparsenet.experiments.seed_figure_rnn.run import param_groups

    torch.manual_seed(0)
    model = RNNClassifier(4, 512, 10)
    rest, hh = param_groups(model, 1e-3, 128)
    assert hh["lr"] == pytest.approx(1e-3 * 128 / 512) and rest["lr"] == 1e-3
    assert {id(p) for p in hh["params"]} == {id(model.rnn.hh.weight), id(model.rnn.hh.bias)}
    assert len(rest["params"]) + len(hh["params"]) == len(list(model.parameters()))
    prune_to_sparse(model, 100, 2048)  # 4 recurrent weights per unit: the full lr
    assert param_groups(model, 1e-3, 128)[1]["lr"] == 1e-3
    assert param_groups(model, 1e-3, 0)[1]["lr"] == 1e-3  # 0: one lr for all
