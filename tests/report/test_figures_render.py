"""Every figure of every report kind, rendered from a small real run and checked for layout.

For each kind in the report registry a tiny run is made with the real command (synthetic
data, a few steps), its report is written, and every figure's final render goes through
`check_layout` (legends and titles inside the canvas, no legend over labels, ticks or data,
tick labels apart, titles apart). `_save` reports each problem as a LayoutWarning naming the
file; here any such warning fails, and the test also checks that every PNG was checked.
The figures are those each command writes at its end (the `report` command's writer).
"""
import json
import struct
import warnings
from pathlib import Path

import pytest

from sparsenet.cli import main
from sparsenet.report import REPORTS, plots, write_report
from sparsenet.report.layout import LayoutWarning

SYN = ["--dataset", "synthetic"]
TRAIN_MLP = ["--model", "mlp", "--spec", "64-32-10"]

# kind -> argv of a small run of that kind (the run directory is found under --out)
COMMANDS = {
    "train": ["train", *SYN, "--spec", "64-32-10", "--n-train", "300", "--steps", "100",
              "--burnin-steps", "50", "--log-every", "25", "--eval-every", "50", "--budget", "300",
              "--no-progress"],
    "prune": ["prune", *SYN, *TRAIN_MLP, "--n-train", "300", "--train-steps", "20", "--criteria",
              "magnitude", "--sparsities", "0.8", "--retrain-steps", "5", "--no-progress"],
    "prune-compare": ["prune", *SYN, *TRAIN_MLP, "--n-train", "300", "--train-steps", "20",
                      "--criteria", "magnitude", "random", "--sparsities", "0.5", "0.9",
                      "--retrain-steps", "5", "--no-progress"],
    "lottery": ["lottery", *SYN, *TRAIN_MLP, "--n-train", "600", "--n-val", "100", "--n-test", "200",
                "--steps", "40", "--eval-every", "10", "--levels", "2", "--rate", "0.5", "--controls",
                "reinit", "--seeds", "0", "1", "--early-bird", "--eb-every", "10", "--eb-window", "2",
                "--edge-popup-k", "10", "50", "--edge-popup-steps", "20", "--neuron-vs-weight",
                "--approx-widths", "16", "32", "--approx-target-width", "8", "--threads", "1",
                "--no-progress"],
    "second-order": ["reproduce", "second-order", "--quick", *SYN, "--threads", "1"],
    "hashednets": ["reproduce", "hashednets", "--quick", *SYN, "--threads", "1"],
    "kwinners": ["reproduce", "kwinners", "--quick", *SYN, "--threads", "1"],
    "low-rank": ["reproduce", "low-rank", "--quick", *SYN, "--threads", "1"],
    "seed-figure": ["reproduce", "seed-figure", *SYN, "--widths", "16", "32", "--budget", "200",
                    "--burnin-steps", "50", "--steps", "100", "--no-progress"],
    "seed-figure-rnn": ["reproduce", "seed-figure-rnn", *SYN, "--widths", "4", "12", "--input-budget", "6",
                        "--recurrent-budget", "20", "--burnin-samples", "32", "--samples", "64", "--batch-size",
                        "16", "--n-test", "100", "--threads", "1", "--no-progress"],
    "dst": ["dst", *SYN, "--hidden", "32-16", "--epsilon", "3", "--n-train", "300", "--steps", "40",
            "--batch-size", "16", "--delta-t", "10", "--eval-every", "20", "--seeds", "0", "1", "--no-progress"],
    "search": ["search", "--quick", "--runs", "1", "--workers", "1", "--no-progress"],
    "bench": ["bench", "--shapes", "64x64x1", "--densities", "0.1", "--mlp", "16-32-10",
              "--mlp-batches", "1", "--mlp-sparsities", "0.9", "--repeats", "1", "--warmup", "0",
              "--threads", "1"],
}


def _sweep_of_two_lottery_trials(out: Path) -> int:
    """A sweep directory over two real tiny `sparsenet lottery` trials (seeds 0, 1), its results.json
    written as the sweep driver writes it: the sweep's figures come from real trial results."""
    sweep = out / "sweep-render"
    rows = []
    for seed in (0, 1):
        argv = ["lottery", *SYN, *TRAIN_MLP, "--n-train", "400", "--n-val", "100", "--n-test", "200", "--steps",
                "20", "--eval-every", "10", "--levels", "2", "--rate", "0.5", "--controls", "reinit", "--seeds",
                str(seed), "--execution", "masked", "--threads", "1", "--no-progress", "--no-report",
                "--run-dir", str(sweep / "trials" / f"t{seed:04d}")]
        assert main(argv) == 0, argv
        rows.append({"id": f"t{seed:04d}", "point": {"seed": seed}, "dir": f"sweep-render/trials/t{seed:04d}",
                     "status": "done", "error": None, "attempts": 1, "node": None, "seconds": None})
    (sweep / "results.json").write_text(json.dumps(
        {"experiment": "sweep", "trials": rows, "sweep": {"name": "sweep-render", "experiment": "lottery",
                                                          "axes": ["seed"], "seed_keys": ["seed"], "executor": "local"}}))
    return 0


# kinds whose small run is built by a function of the output folder instead of one command
BUILDERS = {"sweep": _sweep_of_two_lottery_trials}
MAX_SIDE_PX = 4000  # a figure taller or wider than this is not read on a screen


def _run_dir(out: Path) -> Path:
    """The run directory under `out`: the shallowest one with a results.json."""
    found = sorted(out.rglob("results.json"), key=lambda p: len(p.parts))
    assert found, f"no results.json under {out}"
    return found[0].parent


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), path
    return struct.unpack(">II", data[16:24])  # IHDR: width, height


def test_the_registry_lists_every_kind_a_command_writes():
    kinds = REPORTS.names()
    assert kinds, "no report kinds registered"
    missing = sorted(set(kinds) - set(COMMANDS) - set(BUILDERS))
    assert not missing, f"report kinds without a render run here: {missing}; add a small command"
    assert not (set(COMMANDS) | set(BUILDERS)) - set(kinds), "a render run for a kind that has no report"


@pytest.mark.parametrize("kind", REPORTS.names())
def test_every_figure_renders_without_layout_problems(kind, tmp_path, monkeypatch):
    checked = []
    real_check = plots.check_layout

    def counting_check(fig, **kw):
        problems = real_check(fig, **kw)
        checked.append(problems)
        return problems

    monkeypatch.setattr(plots, "check_layout", counting_check)
    out = tmp_path / "out"
    argv = COMMANDS.get(kind, []) + ["--out", str(out)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if kind in BUILDERS:
            assert BUILDERS[kind](out) == 0, kind
        else:
            assert main(argv) == 0, argv  # every command writes its report at the end
        run_dir = _run_dir(out)
        if not (run_dir / "report.md").is_file():
            write_report(run_dir)
    assert json.loads((run_dir / "results.json").read_text())["experiment"] == kind
    assert (run_dir / "report.md").is_file()
    pngs = sorted(run_dir.rglob("*.png"))
    layout = [str(w.message) for w in caught if issubclass(w.category, LayoutWarning)]
    assert layout == [], f"{kind}: layout problems:\n" + "\n".join(layout)
    # a figure copied from a sub-run (the seed figure's histograms) is rendered and checked once
    distinct = {png.read_bytes() for png in pngs}
    assert len(checked) == len(distinct), f"{kind}: {len(distinct)} figures but {len(checked)} layout checks"
    assert all(p == [] for p in checked)
    for png in pngs:
        w, h = _png_size(png)
        assert 200 <= w <= MAX_SIDE_PX and 150 <= h <= MAX_SIDE_PX, (png.name, w, h)
    if kind != "bench":  # bench reports tables only
        assert pngs, f"{kind}: no figure"
