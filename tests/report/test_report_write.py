"""write_report on hand-made run directories: files, PNG validity, report.md numbers, errors."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sparsenet.errors import SparsenetError
from sparsenet.io import save_tensors, write_json, write_text
from sparsenet.report import REPORTS, write_report
from sparsenet.report.runs import live_magnitudes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IN, OUT = 20, 3  # small MLP IN-H-OUT: the report does not care about 784


def assert_png(path: Path):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), path
    assert len(data) > 1024, path


def make_train_run(d: Path, width=4, acc=0.85, secs=10.0, seed=0, sparse=True):
    """A finished training run in the format the training code writes."""
    d.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    w0 = torch.randn(width, IN, generator=g)
    w1 = torch.randn(OUT, width, generator=g)
    burn = {"layers.0.weight": w0, "layers.1.weight": w1}
    mask0 = torch.rand(width, IN, generator=g) < 0.5
    final = {"layers.0.weight": w0 * mask0 if sparse else w0, "layers.1.weight": w1}
    live0 = int(mask0.sum()) if sparse else width * IN
    write_json(d / "config.json", {
        "experiment": "train", "version": "0.1.0", "command": f"sparsenet train --width {width}",
        "config": {"dataset": "fashion-mnist", "model": "mlp", "lr": 0.1, "seed": seed}})
    lines, samples = [], 0
    phases = ["burnin", "sparse"] if sparse else ["dense"]
    for p_i, phase in enumerate(phases):
        for i in range(4):
            samples += 64
            lines.append({"event": "train", "phase": phase, "step": samples // 64,
                          "samples": samples, "loss": 2.0 / (samples / 64), "seconds": samples / 640})
        lines.append({"event": "eval", "phase": phase, "step": samples // 64, "samples": samples,
                      "split": "test", "loss": 0.5, "accuracy": acc - 0.1 * (len(phases) - 1 - p_i)})
        lines.append({"event": "phase_end", "phase": phase, "seconds": 0.4})
        if phase == "burnin":
            lines.append({"event": "prune", "rounds": 1, "layers": [
                {"name": "layers.0.weight", "live": live0, "total": width * IN}]})
    write_text(d / "metrics.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    if sparse:
        save_tensors(d / "masks.safetensors", {"layers.0.weight": mask0,
                                               "layers.1.weight": torch.ones(OUT, width, dtype=torch.bool)})
    save_tensors(d / "model.safetensors", final)
    save_tensors(d / "snapshots/weights_burnin.safetensors", burn)
    save_tensors(d / "snapshots/weights_final.safetensors", final)
    save_tensors(d / "snapshots/grads_burnin.safetensors", {k: 0.01 * v for k, v in burn.items()})
    # Gradients of pruned weights are nonzero here on purpose: the mask must drop them.
    save_tensors(d / "snapshots/grads_final.safetensors", {k: 0.001 * v for k, v in burn.items()})
    phase_seconds = {"burnin": 1.25, "prune": 0.05, "sparse": secs - 1.3} if sparse else {"dense": secs}
    write_json(d / "results.json", {
        "experiment": "train", "test_accuracy": acc, "test_loss": 0.4321,
        "live_weights": live0 + OUT * width, "total_weights": width * (IN + OUT),
        "train_seconds": secs, "phase_seconds": phase_seconds,
        "layers": [{"name": "layers.0.weight", "shape": [width, IN], "live": live0, "total": width * IN},
                   {"name": "layers.1.weight", "shape": [OUT, width], "live": OUT * width,
                    "total": OUT * width}],
        "hidden_units": [width],
        "machine": {"cpu": "Test CPU", "threads": 2, "torch": "2.13.0", "date": "2025-01-02"}})
    return {"mask0": mask0, "burn": burn, "final": final, "live0": live0}


# width: (dense acc, sparse acc, dense s, sparse s) -> all three claims pass
SEED_SPEC = {2: (0.70, 0.69, 1.0, 1.0), 32: (0.90, 0.895, 40.0, 1.6)}


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("seed")
    rows = []
    for w, (da, sa, ds, ss) in SEED_SPEC.items():
        for variant, acc, secs in (("dense", da, ds), ("sparse", sa, ss)):
            name = f"w{w}-{variant}"
            make_train_run(d / "runs" / name, width=w, acc=acc, secs=secs,
                           sparse=variant == "sparse")
            rows.append({"width": w, "variant": variant,
                         "live_weights": w * (IN + OUT) if variant == "dense" else 100,
                         "hidden_live_weights": w * OUT, "live_hidden_units": w,
                         "train_seconds": secs, "phase_seconds": {}, "test_accuracy": acc,
                         "test_loss": 0.4, "run_dir": f"runs/{name}"})
    write_json(d / "config.json", {"experiment": "seed-figure", "config": {"budget": 100}})
    write_json(d / "results.json", {
        "experiment": "seed-figure", "dataset": "fashion-mnist", "budget": 100, "rows": rows,
        "machine": {"cpu": "Test CPU", "threads": 2, "torch": "2.13.0", "date": "2025-01-02"},
        "reference": {"dataset": "mnist", "widths": [2, 4, 8, 16, 32, 64, 128],
                      "dense_accuracy": [0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.98],
                      "sparse_accuracy": [0.7, 0.8, 0.9, 0.95, 0.97, 0.975, 0.98],
                      "dense_seconds": [1, 2, 4, 8, 16, 32, 64],
                      "sparse_seconds": [1, 1, 1, 1, 1.2, 1.3, 1.5],
                      "source": "the blog post, figure 2"}})
    written = write_report(d)
    return d, written


def test_registry_has_a_report_for_every_experiment_that_writes_results():
    # every "experiment" value the package writes into results.json (read from the source, so a new
    # experiment without a report fails here) has a registered report
    import re

    src = Path(__file__).resolve().parents[2] / "sparsenet"
    written = set()
    for path in src.rglob("*.py"):
        written |= set(re.findall(r'"experiment": ?"([a-z0-9_-]+)"', path.read_text()))
    from sparsenet.experiments.prune.run import experiment_kind  # prune writes its kind through a function
    from sparsenet.experiments.prune.config import PruneConfig

    written.add(experiment_kind(PruneConfig(criteria=("magnitude", "random"))))
    assert {"train", "seed-figure", "second-order", "prune", "lottery", "bench"} <= written
    missing = sorted(written - set(REPORTS.names()))
    assert not missing, f"experiments without a report: {missing}"


def test_train_report_files_and_numbers(tmp_path):
    run = tmp_path / "run"
    info = make_train_run(run, width=4, acc=0.8512, secs=10.0)
    written = write_report(run)
    names = {p.name for p in written}
    assert names == {"training_curve.png", "weights_hist.png", "grads_hist.png", "report.md"}
    assert all(p.parent == run and p.is_file() for p in written)
    for p in written:
        if p.suffix == ".png":
            assert_png(p)
    md = (run / "report.md").read_text()
    assert "| test accuracy | 85.12 % |" in md
    assert "| test loss | 0.4321 |" in md
    assert "| training seconds (all phases) | 10.00 |" in md
    assert "| burnin seconds | 1.25 |" in md and "| sparse seconds | 8.70 |" in md
    live0 = info["live0"]
    assert f"| `layers.0.weight` | 4×{IN} | {live0} | {4 * IN} | {100 * live0 / (4 * IN):.2f} % |" in md
    assert "| `layers.1.weight` | 3×4 | 12 | 12 | 100.00 % |" in md
    assert "α weights burn-in" in md and "α weights final" in md
    assert "sparsenet train --width 4" in md and "| `lr` | 0.1 |" in md
    assert "Machine: Test CPU · 2 threads · torch 2.13.0 · 2025-01-02" in md
    for img in ("training_curve.png", "weights_hist.png", "grads_hist.png"):
        assert f"]({img})" in md
    assert "## Notes" not in md  # nothing was missing
    assert not list(run.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_masks_exclude_pruned_weights_and_their_gradients(tmp_path):
    run = tmp_path / "run"
    info = make_train_run(run, width=4)
    mags = live_magnitudes(run, [])
    live = info["mask0"]
    w = info["final"]["layers.0.weight"]
    np.testing.assert_allclose(np.sort(mags["weights"]["final"]["layers.0.weight"]),
                               np.sort(w[live].abs().double().numpy()))
    # Burn-in is before pruning: every nonzero weight counts.
    assert mags["weights"]["burn-in"]["layers.0.weight"].size == 4 * IN
    # Final gradients are nonzero everywhere but only live entries are kept.
    assert mags["grads"]["final"]["layers.0.weight"].size == int(live.sum())
    # Without a mask file the zeros of the final weights define what is pruned.
    (run / "masks.safetensors").unlink()
    mags = live_magnitudes(run, [])
    assert mags["weights"]["final"]["layers.0.weight"].size == int(live.sum())
    assert mags["grads"]["final"]["layers.0.weight"].size == int(live.sum())


def test_missing_snapshots_are_noted_not_fatal(tmp_path):
    run = tmp_path / "run"
    make_train_run(run)
    (run / "snapshots/grads_burnin.safetensors").unlink()
    (run / "snapshots/grads_final.safetensors").unlink()
    (run / "snapshots/weights_burnin.safetensors").unlink()
    (run / "metrics.jsonl").unlink()
    names = {p.name for p in write_report(run)}
    assert names == {"weights_hist.png", "report.md"}
    md = (run / "report.md").read_text()
    assert "## Notes" in md
    assert "grads_hist.png not drawn" in md
    assert "weights_burnin.safetensors) is missing" in md
    assert "metrics.jsonl is missing" in md
    assert "](grads_hist.png)" not in md and "](weights_hist.png)" in md


def test_torn_metrics_line_and_corrupt_snapshot(tmp_path):
    run = tmp_path / "run"
    make_train_run(run)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"event": "train", "phase": "spa')  # killed mid-write
    (run / "snapshots/grads_final.safetensors").write_bytes(b"not a safetensors file")
    names = {p.name for p in write_report(run)}
    assert {"training_curve.png", "grads_hist.png", "report.md"} <= names
    md = (run / "report.md").read_text()
    assert "skipped 1 unreadable line" in md and "could not be read" in md


def test_dense_run_without_masks(tmp_path):
    run = tmp_path / "run"
    make_train_run(run, sparse=False, secs=3.5)
    write_report(run)
    md = (run / "report.md").read_text()
    assert "| dense seconds | 3.50 |" in md
    assert f"| `layers.0.weight` | 4×{IN} | {4 * IN} | {4 * IN} | 100.00 % |" in md


def test_seed_figure_files(seed_dir):
    d, written = seed_dir
    assert all(p.is_file() for p in written)
    top = {p.name for p in written if p.parent == d}
    assert top == {"accuracy.png", "speed.png", "weights_hist.png", "grads_hist.png", "report.md"}
    for name in ("accuracy.png", "speed.png", "weights_hist.png", "grads_hist.png"):
        assert_png(d / name)
    # The top histograms are those of the largest sparse width's run.
    assert (d / "weights_hist.png").read_bytes() == (d / "runs/w32-sparse/weights_hist.png").read_bytes()
    for name in ("w2-dense", "w2-sparse", "w32-dense", "w32-sparse"):
        assert (d / "runs" / name / "report.md").is_file()
        assert_png(d / "runs" / name / "training_curve.png")


def test_seed_figure_markdown(seed_dir):
    d, _ = seed_dir
    md = (d / "report.md").read_text()
    assert f"| 2 | 70.00 | 69.00 | -1.00 | {2 * (IN + OUT)} / 100 | 1.00 | 1.00 | 1.0× |" in md
    assert f"| 32 | 90.00 | 89.50 | -0.50 | {32 * (IN + OUT)} / 100 | 40.00 | 1.60 | 25.0× |" in md
    assert "- **(a) PASS**" in md and "width 32: 89.50 vs 90.00 (Δ -0.50)" in md
    assert "- **(b) PASS**" in md and "width 32: dense 40.00 s / sparse 1.60 s = 25.0×" in md
    assert "- **(c) PASS**" in md and "width 32: 1.60 s (100 live) vs width 2: 1.00 s (100 live) = 1.60×" in md
    assert "Machine: Test CPU · 2 threads · torch 2.13.0 · 2025-01-02" in md
    assert "Source: the blog post, figure 2. Reported there" in md
    assert "| 64 | 98.00 | 97.50 | 32.00 | 1.30 | 24.6× |" in md
    assert "](accuracy.png)" in md and "](speed.png)" in md and "](weights_hist.png)" in md
    assert "(runs/w32-sparse/report.md)" in md


def test_seed_figure_with_failing_claims_and_missing_run(tmp_path):
    d = tmp_path / "seed"
    make_train_run(d / "runs" / "w2-sparse", width=2, acc=0.5, secs=1.0)
    rows = [
        {"width": 2, "variant": "dense", "test_accuracy": 0.6, "train_seconds": 1.0,
         "live_weights": 46, "run_dir": "runs/w2-dense"},  # directory never written
        {"width": 2, "variant": "sparse", "test_accuracy": 0.5, "train_seconds": 1.0,
         "live_weights": 30, "run_dir": "runs/w2-sparse"},
        {"width": 64, "variant": "dense", "test_accuracy": 0.95, "train_seconds": 30.0,
         "live_weights": 1472, "run_dir": "runs/w64-dense"},
        {"width": 64, "variant": "sparse", "test_accuracy": 0.90, "train_seconds": 3.0,
         "live_weights": 30, "run_dir": "runs/w64-sparse"},
    ]
    write_json(d / "results.json", {"experiment": "seed-figure", "dataset": "fashion-mnist",
                                    "budget": 30, "rows": rows})
    write_report(d)
    md = (d / "report.md").read_text()
    assert "- **(a) FAIL**" in md and "(Δ -5.00, outside)" in md
    assert "- **(b) FAIL**" in md and "= 10.0×" in md
    assert "- **(c) FAIL**" in md and "= 3.00×" in md
    assert "width 2 dense: run directory 'runs/w2-dense' not found." in md
    assert "No reference numbers were recorded." in md
    assert "Machine: not recorded." in md
    # The largest sparse width with a run directory is width 2 here, and the report says so.
    assert_png(d / "weights_hist.png")
    assert "the width 64 sparse (seed) run has no report: the histograms are of width 2" in md


def test_not_a_run_directory(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(SparsenetError, match="does not exist") as e:
        write_report(missing)
    assert str(missing) in str(e.value) and "\n" not in str(e.value)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SparsenetError) as e:
        write_report(empty)
    msg = str(e.value)
    assert str(empty) in msg and "has no results.json" in msg and "sparsenet train" in msg

    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(SparsenetError, match="is not a directory"):
        write_report(afile)


def test_corrupt_or_unknown_results(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "results.json").write_text('{"experiment": "train", "test_acc')
    with pytest.raises(SparsenetError, match="is not valid JSON") as e:
        write_report(d)
    assert str(d / "results.json") in str(e.value) and "\n" not in str(e.value)

    (d / "results.json").write_text("[1, 2]")
    with pytest.raises(SparsenetError, match='no "experiment" field'):
        write_report(d)

    write_json(d / "results.json", {"experiment": "swept"})
    with pytest.raises(SparsenetError, match="'swept'.*valid experiments: .*seed-figure.*, sweep, train"):
        write_report(d)

    write_json(d / "results.json", {"experiment": "sweep"})
    with pytest.raises(SparsenetError, match="not a finished sweep"):
        write_report(d)

    write_json(d / "results.json", {"experiment": "seed-figure", "rows": [{"width": "big"}]})
    with pytest.raises(SparsenetError, match="row 0 needs an integer"):
        write_report(d)


def test_plot_functions_skip_when_nothing_to_draw(tmp_path):
    from sparsenet.report.plots import plot_magnitude_histograms, plot_training_curve

    assert plot_training_curve([{"event": "phase_end", "phase": "dense", "seconds": 1.0}],
                               tmp_path / "c.png") is None
    assert plot_magnitude_histograms({"burn-in": None, "final": {}}, tmp_path / "h.png",
                                     "t", "|w|") is None
    assert not list(tmp_path.iterdir())
