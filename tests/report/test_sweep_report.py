"""The sweep aggregate and report, on sweep directories written by hand and on real lottery trials.

Expected means and sample stds (ddof = 1) are computed by hand from the numbers written here:
for two values a, b the sample std is |a - b| / sqrt(2).
"""
import json
import math
import warnings
from pathlib import Path

import pytest

from sparsenet.cli import main
from sparsenet.errors import SparsenetError
from sparsenet.report import write_report
from sparsenet.report.layout import LayoutWarning
from sparsenet.report.sweep_aggregate import aggregate

SQRT2 = math.sqrt(2)


def _write(path: Path, obj) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "results.json").write_text(json.dumps(obj))


def _sweep(root: Path, kind: str, trials: list[dict], axes=("seed",), name="sw", executor="local") -> Path:
    """A sweep directory `root/name` whose trials' run directories are given as `results` (written under
    `root/name/trials/<id>`, named relative to the sweep's parent) or `dir` (as is)."""
    sweep = root / name
    rows = []
    for t in trials:
        row = {"id": t["id"], "point": t["point"], "status": t.get("status", "done"), "error": t.get("error"),
               "attempts": t.get("attempts", 1), "node": t.get("node"), "seconds": t.get("seconds", 1.5)}
        row["dir"] = t.get("dir", f"{name}/trials/{t['id']}")
        if "results" in t:
            _write(sweep / "trials" / t["id"], t["results"])
        rows.append(row)
    sweep.mkdir(parents=True, exist_ok=True)
    (sweep / "config.json").write_text(json.dumps({"experiment": "sweep", "config": {"name": name}}))
    _write(sweep, {"experiment": "sweep", "trials": rows,
                   "sweep": {"name": name, "experiment": kind, "axes": list(axes), "seed_keys": ["seed"],
                             "executor": executor}})
    return sweep


def _lottery(seed: int, acc: dict, es: dict | None = None) -> dict:
    """A lottery results.json: `acc` maps (level, kind) -> test accuracy; density 1, 0.5, 0.25 by level."""
    rows = [{"seed": seed, "level": lv, "kind": k, "density": 0.5 ** lv, "test_accuracy": a,
             "early_stop_step": (es or {}).get((lv, k)), "early_stop_test_accuracy": a, "train_seconds": 3.0 + seed}
            for (lv, k), a in acc.items()]
    return {"experiment": "lottery", "rows": rows, "summary": {"levels": []}, "wall_seconds": 9.0}


def _lottery_trials() -> list[dict]:
    """Two lr values × two seeds, one failed and one missing trial."""
    acc = {0.1: ({(0, "ticket"): 0.80, (1, "ticket"): 0.84, (1, "reinit"): 0.70},
                 {(0, "ticket"): 0.90, (1, "ticket"): 0.86, (1, "reinit"): 0.60}),
           0.01: ({(0, "ticket"): 0.50, (1, "ticket"): 0.55, (1, "reinit"): 0.40},
                  {(0, "ticket"): 0.70, (1, "ticket"): 0.65, (1, "reinit"): 0.50})}
    es = {(0, "ticket"): 100, (1, "ticket"): 80, (1, "reinit"): 120}
    trials = []
    for i, (lr, seed) in enumerate([(0.1, 0), (0.1, 1), (0.01, 0), (0.01, 1)]):
        trials.append({"id": f"t{i:04d}", "point": {"seed": seed, "lr": lr},
                       "results": _lottery(seed, acc[lr][seed], es)})
    trials.append({"id": "t0004", "point": {"seed": 2, "lr": 0.1}, "status": "failed", "attempts": 2,
                   "error": "Traceback (most recent call last):\n  ...\nDivergenceError: loss is nan at step 12"})
    trials.append({"id": "t0005", "point": {"seed": 2, "lr": 0.01}})  # done, but its directory is gone
    return trials


def _group(agg, **point):
    return next(g for g in agg["groups"] if g["point"] == point)


def test_lottery_groups_are_mean_and_sample_std_over_seeds(tmp_path):
    agg = aggregate(_sweep(tmp_path, "lottery", _lottery_trials(), axes=("seed", "lr")))
    assert agg["kind"] == "lottery" and agg["seed_keys"] == ["seed"]
    assert [g["point"] for g in agg["groups"]] == [{"lr": 0.01}, {"lr": 0.1}]  # sorted by value
    g = _group(agg, lr=0.1)
    assert g["n"] == 2 and g["seeds"] == [[0], [1]]
    m = g["metrics"]["ticket / level 0 / test_accuracy"]
    assert m["values"] == [0.80, 0.90] and m["n"] == 2
    assert m["mean"] == pytest.approx(0.85) and m["std"] == pytest.approx(0.10 / SQRT2)
    m = g["metrics"]["reinit / level 1 / test_accuracy"]
    assert m["mean"] == pytest.approx(0.65) and m["std"] == pytest.approx(0.10 / SQRT2)
    assert m["remaining"] == pytest.approx(50.0)
    m = _group(agg, lr=0.01)["metrics"]["ticket / level 1 / test_accuracy"]
    assert m["mean"] == pytest.approx(0.60) and m["std"] == pytest.approx(0.10 / SQRT2)
    es = g["metrics"]["reinit / level 1 / early_stop_step"]
    assert es["mean"] == 120 and es["std"] == 0.0
    assert not any("seconds" in name for name in g["metrics"])


def test_lottery_curves_one_line_per_kind_and_grid_point(tmp_path):
    agg = aggregate(_sweep(tmp_path, "lottery", _lottery_trials(), axes=("seed", "lr")))
    acc = [c for c in agg["curves"] if c["metric"] == "test_accuracy"]
    assert [c["label"] for c in acc] == ["reinit, lr=0.01", "reinit, lr=0.1", "ticket, lr=0.01", "ticket, lr=0.1"]
    reinit = acc[1]
    # the control starts from the dense net: the level-0 ticket is its 100% point
    assert [p["remaining"] for p in reinit["points"]] == [100.0, 50.0]
    assert [p["mean"] for p in reinit["points"]] == pytest.approx([0.85, 0.65])
    assert all(p["n"] == 2 for p in reinit["points"])
    assert {c["label"] for c in agg["curves"] if c["metric"] == "early_stop_step"} == {c["label"] for c in acc}


def test_failed_and_missing_trials_are_listed_not_averaged(tmp_path):
    trials = _lottery_trials()
    trials.append({"id": "t0006", "point": {"seed": 3, "lr": 0.1}, "dir": "sw/empty"})
    sweep = _sweep(tmp_path, "lottery", trials, axes=("seed", "lr"))
    (sweep / "empty").mkdir()  # a run directory that never finished: no results.json
    agg = aggregate(sweep)
    assert agg["failed"] == [{"id": "t0004", "point": {"seed": 2, "lr": 0.1}, "attempts": 2,
                              "error": trials[4]["error"]}]
    assert [(m["id"], m["reason"]) for m in agg["missing"]] == [
        ("t0005", "run directory not found"), ("t0006", "no results.json in its run directory")]
    assert agg["trials"] == {"total": 7, "done": 4, "failed": 1, "missing": 2}
    assert _group(agg, lr=0.1)["n"] == 2
    write_report(sweep)
    md = (sweep / "report.md").read_text()
    assert "t0004" in md and "DivergenceError: loss is nan at step 12" in md
    assert "t0005" in md and "run directory not found" in md


def _prune(acc_dense: float, points: dict) -> dict:
    return {"experiment": "prune-compare", "dense": {"accuracy": acc_dense, "seconds": 2.0},
            "points": [{"id": f"{c}-{s}", "criterion": c, "target_sparsity": s, "sparsity": s + 0.001,
                        "accuracy": a, "accuracy_pruned": a - 0.1, "retrain_seconds": 1.0}
                       for (c, s), a in points.items()], "machine": {"threads": 2}}


def test_prune_lines_per_criterion_with_the_dense_point(tmp_path):
    trials = [{"id": "t0000", "point": {"seed": 0}, "results": _prune(0.9, {("magnitude", 0.5): 0.88,
                                                                              ("magnitude", 0.9): 0.80,
                                                                              ("random", 0.5): 0.70})},
              {"id": "t0001", "point": {"seed": 1}, "results": _prune(0.8, {("magnitude", 0.5): 0.86,
                                                                              ("magnitude", 0.9): 0.76,
                                                                              ("random", 0.5): 0.50})}]
    agg = aggregate(_sweep(tmp_path, "prune", trials))
    (g,) = agg["groups"]
    assert g["point"] == {} and g["n"] == 2
    m = g["metrics"]["magnitude / sparsity 90% / test_accuracy"]
    assert m["mean"] == pytest.approx(0.78) and m["std"] == pytest.approx(0.04 / SQRT2)
    assert m["remaining"] == pytest.approx(100 * (1 - 0.901))
    assert g["metrics"]["dense / test_accuracy"]["mean"] == pytest.approx(0.85)
    curves = {c["label"]: c for c in agg["curves"] if c["metric"] == "test_accuracy"}
    assert sorted(curves) == ["magnitude", "random"]  # only the seed varies: no axis in the labels
    mag = curves["magnitude"]["points"]
    assert [round(p["remaining"], 1) for p in mag] == [100.0, 49.9, 9.9]
    assert [p["mean"] for p in mag] == pytest.approx([0.85, 0.87, 0.78])
    assert curves["random"]["points"][1]["std"] == pytest.approx(0.20 / SQRT2)


def test_aggregate_ignores_order_timings_nodes_and_paths(tmp_path):
    trials = _lottery_trials()
    a = aggregate(_sweep(tmp_path / "a", "lottery", trials, axes=("seed", "lr")))
    shuffled = [dict(t, seconds=99.0, node="n7") for t in reversed(trials)]
    for t in shuffled:
        if "results" in t:
            t["results"] = dict(t["results"], wall_seconds=1234.5)
    b = aggregate(_sweep(tmp_path / "b", "lottery", shuffled, axes=("seed", "lr"), executor="ray"))
    assert a == b
    text = json.dumps(a, allow_nan=False)  # strict JSON: a single seed's std is null, not NaN
    assert str(tmp_path) not in text


def test_one_seed_shows_no_plus_minus_and_a_null_std(tmp_path):
    trials = [{"id": "t0000", "point": {"seed": 0, "lr": 0.1},
               "results": _lottery(0, {(0, "ticket"): 0.8, (1, "ticket"): 0.7})}]
    sweep = _sweep(tmp_path, "lottery", trials, axes=("seed", "lr"))
    agg = aggregate(sweep)
    m = agg["groups"][0]["metrics"]["ticket / level 1 / test_accuracy"]
    assert m["n"] == 1 and m["std"] is None and m["mean"] == 0.7
    assert agg["curves"][0]["label"] == "ticket"  # lr took one value: not in the label
    write_report(sweep)
    md = (sweep / "report.md").read_text()
    assert "±" not in md and "70.00 (1)" in md


def test_train_and_other_kinds(tmp_path):
    train = [{"id": f"t{i}", "point": {"seed": s, "budget": b},
              "results": {"experiment": "train", "test_accuracy": a, "live_weights": b, "total_weights": 1000,
                          "train_seconds": 5.0}}
             for i, (s, b, a) in enumerate([(0, 100, 0.6), (1, 100, 0.7), (0, 300, 0.8), (1, 300, 0.9)])]
    agg = aggregate(_sweep(tmp_path / "train", "train", train, axes=("seed", "budget")))
    assert [c["label"] for c in agg["curves"] if c["metric"] == "test_accuracy"] == ["budget=100", "budget=300"]
    (p,) = agg["curves"][0]["points"]
    assert p["remaining"] == pytest.approx(10.0) and p["mean"] == pytest.approx(0.65)
    assert p["std"] == pytest.approx(0.1 / SQRT2)

    other = [{"id": f"t{s}", "point": {"seed": s},
              "results": {"experiment": "kwinners", "quick": True, "accuracy": 0.5 + s / 10, "wall_seconds": 3.0,
                          "dense": {"accuracy": 0.9 - s / 10, "train_seconds": 1.0, "name": "x"},
                          "machine": {"threads": 4}}}
             for s in (0, 1)]
    sweep = _sweep(tmp_path / "other", "kwinners", other)
    agg = aggregate(sweep)
    assert sorted(agg["groups"][0]["metrics"]) == ["accuracy", "dense.accuracy"]
    assert agg["groups"][0]["metrics"]["dense.accuracy"]["mean"] == pytest.approx(0.85)
    assert agg["curves"] == []
    written = write_report(sweep)
    assert not list(sweep.glob("*.png")) and sweep / "report.md" in written


def test_dst_one_line_per_method_at_the_final_density(tmp_path):
    trials = [{"id": f"t{s}", "point": {"seed": s},
               "results": {"experiment": "dst", "final_density": 0.1,
                           "trials": [{"method": "set", "seed": s, "test_accuracy": 0.7 + s / 10},
                                      {"method": "rigl", "seed": s, "test_accuracy": 0.8 + s / 10}]}}
              for s in (0, 1)]
    agg = aggregate(_sweep(tmp_path, "dst", trials))
    curves = [c for c in agg["curves"] if c["metric"] == "test_accuracy"]
    assert [c["label"] for c in curves] == ["rigl", "set"]
    (p,) = curves[1]["points"]
    assert p["remaining"] == pytest.approx(10.0) and p["mean"] == pytest.approx(0.75) and p["n"] == 2
    assert p["std"] == pytest.approx(0.1 / SQRT2)


def test_not_a_sweep_is_a_one_line_error(tmp_path):
    _write(tmp_path / "run", {"experiment": "sweep", "trials": "nope"})
    with pytest.raises(SparsenetError, match="not a finished sweep.*sparsenet sweep"):
        aggregate(tmp_path / "run")
    with pytest.raises(SparsenetError, match="nothing-here-yet does not exist"):
        aggregate(tmp_path / "nothing-here-yet")


def test_report_command_rebuilds_report_figure_and_aggregate(tmp_path, capsys):
    sweep = _sweep(tmp_path, "lottery", _lottery_trials(), axes=("seed", "lr"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", LayoutWarning)
        assert main(["report", str(sweep)]) == 0
    md = (sweep / "report.md").read_text()
    assert md.startswith("# Sweep sw: lottery")
    assert "mean ± sample standard deviation (ddof = 1)" in md
    assert "85.00 ± 7.07 (2)" in md  # ticket, level 0, lr = 0.1
    assert "![test accuracy vs % of weights remaining](accuracy_vs_remaining.png)" in md
    assert (sweep / "accuracy_vs_remaining.png").read_bytes().startswith(b"\x89PNG")
    assert (sweep / "early_stop_vs_remaining.png").is_file()
    assert json.loads((sweep / "aggregate.json").read_text()) == aggregate(sweep)
    (sweep / "report.md").unlink()
    assert main(["report", str(sweep)]) == 0
    assert (sweep / "report.md").read_text() == md


LOTTERY_TINY = ["lottery", "--levels", "1", "--steps", "40",
                "--eval-every", "20", "--controls", "reinit", "--no-early-bird", "--edge-popup-k", "",
                "--no-neuron-vs-weight", "--approx-widths", "", "--execution", "masked", "--n-train", "400",
                "--n-val", "100", "--n-test", "200", "--threads", "1", "--no-progress", "--no-report"]
ROOT = Path(__file__).resolve().parents[2]


def tiny_lottery_sweep(root: Path, name: str = "sw") -> Path:
    """A sweep directory over two real `sparsenet lottery` trials (seeds 0 and 1), written as the
    sweep driver would write it; the trials' directories sit beside the sweep, named relative to it."""
    trials = []
    for seed in (0, 1):
        run = root / name / "trials" / f"t{seed:04d}"
        assert main(["lottery", "--config", str(ROOT / "recipes/lottery-quick.toml"), *LOTTERY_TINY[1:],
                     "--seeds", str(seed), "--run-dir", str(run)]) == 0
        trials.append({"id": f"t{seed:04d}", "point": {"seed": seed}})
    return _sweep(root, "lottery", trials, name=name)


def test_real_lottery_trials_aggregate(tmp_path):
    sweep = tiny_lottery_sweep(tmp_path)
    real = [json.loads((sweep / "trials" / t / "results.json").read_text()) for t in ("t0000", "t0001")]
    agg = aggregate(sweep)
    assert agg["missing"] == [] and agg["failed"] == []
    (g,) = agg["groups"]
    assert g["n"] == 2
    for level in (0, 1):
        kinds = ["ticket"] + (["reinit"] if level else [])
        for kind in kinds:
            vals = [next(r["test_accuracy"] for r in res["rows"] if (r["level"], r["kind"]) == (level, kind))
                    for res in real]
            m = g["metrics"][f"{kind} / level {level} / test_accuracy"]
            assert m["values"] == vals
            assert m["std"] == pytest.approx(abs(vals[0] - vals[1]) / SQRT2)
    labels = sorted(c["label"] for c in agg["curves"] if c["metric"] == "test_accuracy")
    assert labels == ["reinit", "ticket"]
    ticket = next(c for c in agg["curves"] if c["label"] == "ticket" and c["metric"] == "test_accuracy")
    density = next(r["density"] for r in real[0]["rows"] if (r["level"], r["kind"]) == (1, "ticket"))
    assert [p["remaining"] for p in ticket["points"]] == pytest.approx([100.0, 100 * density])
