"""`sparsenet reproduce second-order --quick`: every part runs, the numbers say what the issue claims,
parts resume, and the report is rebuilt from the run's files alone."""
import json
import os
from dataclasses import replace

import pytest

from sparsenet import io
from sparsenet.errors import SparsenetError
from sparsenet.experiments.second_order.run import PARTS, SecondOrderConfig, effective, run_second_order


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("second-order")
    results = run_second_order(SecondOrderConfig(dataset="synthetic", quick=True, threads=1, run_dir=str(out)))
    return out, results


def test_quick_run_writes_every_artifact(quick_run):
    out, results = quick_run
    assert io.read_json(out / "results.json")["experiment"] == "second-order"
    assert set(results["parts"]) == set(PARTS)
    for name in ("report.md", "saddle.png", "rosenbrock.png", "slow_net.png", "pruned.png", "config.json"):
        assert (out / name).is_file(), name
    for part in PARTS:
        assert (out / "parts" / f"{part}.json").is_file()
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    # the one loop's schema: train lines of every step group, eval lines on the training subset
    assert {x["phase"].split("/")[0] for x in lines} == set(PARTS)
    slow = [x for x in lines if x["phase"].startswith("slow-net/")]
    assert {x["phase"].split("/")[1] for x in slow} == {"sgd", "adam", "sfn", "krylov-sfn", "hessian-free"}
    cfg = effective(SecondOrderConfig(quick=True))
    for x in lines:
        assert x["event"] in ("train", "eval") and {"phase", "step", "samples", "loss"} <= set(x)
        assert "seconds" in x or x["event"] == "eval"
    sfn = [x for x in slow if x["phase"] == "slow-net/sfn"]
    steps = list(range(cfg.eval_every, cfg.iterations + 1, cfg.eval_every))
    assert [x["step"] for x in sfn if x["event"] == "train"] == steps
    assert [x["step"] for x in sfn if x["event"] == "eval"] == [0] + steps  # start, every eval_every, the end
    assert all(x["samples"] == x["step"] * cfg.batch_size for x in sfn)
    run = next(r for r in results["parts"]["slow-net"]["runs"] if r["method"] == "sfn")
    assert [x["loss"] for x in sfn if x["event"] == "eval"] == run["train_loss"]
    rosen = [x for x in lines if x["phase"] == "rosenbrock/gd"]
    assert [x["step"] for x in rosen] == list(range(1, 5 * cfg.toy_iterations + 1))  # one line per iteration


def test_saddle_newton_converges_to_the_saddle_and_sfn_escapes(quick_run):
    _, results = quick_run
    for problem in ("saddle/2d", "saddle/deep_linear"):
        s = results["summary"][problem]
        assert s["newton"]["final_distance"] < 1e-6 and s["newton"]["escaped_at"] is None
        assert s["sfn"]["escaped_at"] is not None and s["sfn"]["escaped_at"] < 30
        assert s["gd"]["escaped_at"] is None or s["gd"]["escaped_at"] > 2 * s["sfn"]["escaped_at"]
    two_d = results["parts"]["saddle"]["problems"]["2d"]
    sfn = next(r for r in two_d["runs"] if r["method"] == "sfn")
    assert sfn["final_loss"] == pytest.approx(-0.25) and abs(abs(sfn["final_point"][1]) - 1) < 1e-6


def test_rosenbrock_second_order_methods_reach_the_minimum(quick_run):
    _, results = quick_run
    s = results["summary"]["rosenbrock"]
    for m in ("newton", "sfn", "krylov-sfn", "hessian-free"):
        assert s[m]["iterations_to_1e-8"] is not None, m
    assert s["gd"]["iterations_to_1e-8"] is None


def test_slow_net_and_pruned_parts_record_curves_with_timing(quick_run):
    _, results = quick_run
    cfg = effective(SecondOrderConfig(quick=True))
    slow = results["parts"]["slow-net"]
    assert slow["hessian_blocks"] == [cfg.width * cfg.width + cfg.width, 10 * cfg.width + 10]
    for run in slow["runs"]:
        assert run["iteration"][-1] == cfg.iterations and run["diverged"] is None
        assert run["train_loss"][-1] < run["train_loss"][0], run["method"]
        assert run["seconds"] == sorted(run["seconds"])
    pruned = results["parts"]["pruned"]
    assert pruned["newton_system_size"] == cfg.live_weights + cfg.pruned_hidden + 10
    sfn = next(r for r in pruned["runs"] if r["method"] == "sfn")
    assert sfn["final_train_loss"] < sfn["train_loss"][0]
    assert isinstance(results["summary"]["slow-net"]["sfn_beats_sgd_same_iterations"], bool)


def test_parts_resume_and_only_changed_parts_rerun(tmp_path):
    cfg = SecondOrderConfig(parts=("saddle", "rosenbrock"), quick=True, toy_iterations=10, threads=1, run_dir=str(tmp_path))
    run_second_order(cfg)
    stamp = {p: os.stat(tmp_path / "parts" / f"{p}.json").st_mtime_ns for p in cfg.parts}
    with pytest.raises(SparsenetError, match="pass --resume"):
        run_second_order(cfg)
    cfg = replace(cfg, resume=True)
    again = run_second_order(cfg)
    assert again["skipped_parts"] == ["saddle", "rosenbrock"]
    assert {p: os.stat(tmp_path / "parts" / f"{p}.json").st_mtime_ns for p in cfg.parts} == stamp
    changed = run_second_order(replace(cfg, seed=1))
    assert changed["skipped_parts"] == ["rosenbrock"]  # the saddle part depends on the seed, Rosenbrock does not
    fresh = run_second_order(replace(cfg, parts=("rosenbrock",), toy_iterations=11))
    assert fresh["skipped_parts"] == []


def test_cli_quick_and_report_from_files_only(tmp_path, capsys):
    from sparsenet.cli import main
    from sparsenet.report import write_report

    rc = main(["reproduce", "second-order", "--quick", "--threads", "1", "--parts", "saddle", "--run-dir", str(tmp_path)])
    assert rc == 0
    (tmp_path / "report.md").unlink()
    (tmp_path / "saddle.png").unlink()
    written = {p.name for p in write_report(tmp_path)}
    assert {"report.md", "saddle.png"} <= written
    text = (tmp_path / "report.md").read_text()
    assert "Saddle escape" in text and "Parts not run: rosenbrock, slow-net, pruned." in text


@pytest.mark.parametrize("args, needle", [
    (["--parts", "hessian"], "valid parts: saddle, rosenbrock, slow-net, pruned"),
    (["--sfn-damping", "0"], "--sfn-damping 0"),
    (["--dataset", "imagenet"], "fashion-mnist"),
])
def test_bad_flags_are_one_line(tmp_path, capsys, args, needle):
    from sparsenet.cli import main

    rc = main(["reproduce", "second-order", "--quick", "--run-dir", str(tmp_path)] + args)
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and needle in err
    assert not (tmp_path / "results.json").exists()


@pytest.mark.realdata
def test_fashion_mnist_slow_net_quick(tmp_path):
    from sparsenet.data import DataError, load_dataset

    try:
        load_dataset("fashion-mnist", None, seed=0)
    except DataError as e:
        pytest.skip(f"Fashion-MNIST not installed: {e}")
    r = run_second_order(SecondOrderConfig(parts=("slow-net",), quick=True, threads=1, run_dir=str(tmp_path)))
    assert r["parts"]["slow-net"]["dataset"] == "fashion-mnist"
    assert all(run["final_train_loss"] < run["train_loss"][0] for run in r["parts"]["slow-net"]["runs"])


def test_cifar100_from_a_data_dir_gives_the_seed_shape(tmp_path):
    import numpy as np

    from sparsenet.data.fakes import cifar_pickle

    data = tmp_path / "cifar-100-python"
    data.mkdir()
    rng = np.random.default_rng(0)
    for name, n in (("train", 120), ("test", 40)):
        imgs = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        (data / name).write_bytes(cifar_pickle(imgs, [i % 100 for i in range(n)], label_key=b"fine_labels"))
    r = run_second_order(SecondOrderConfig(dataset="cifar100", data_dir=str(tmp_path), parts=("slow-net",), quick=True,
                                           iterations=2, threads=1, run_dir=str(tmp_path / "run")))
    slow = r["parts"]["slow-net"]
    assert slow["dataset"] == "cifar100" and slow["shape"].startswith("3072->16")
    assert slow["hessian_blocks"] == [16 * 16 + 16, 100 * 16 + 100]
