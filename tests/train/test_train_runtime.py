"""--device / --threads / --seed: one meaning on every command, one-line errors, recorded in results."""
import doctest
import json

import pytest
import torch

import sparsenet.train.runtime as rt
from sparsenet.cli import build_parser, main
from sparsenet.config import build_config, run_name
from sparsenet.errors import ConfigError
from sparsenet.models import MLP
from sparsenet.train import fused_unsupported_reason, machine_info
from sparsenet.train.runtime import DeviceError, apply_runtime, parse_device, runtime


def test_runtime_docstring_examples_run():
    assert doctest.testmod(rt, raise_on_error=False).failed == 0


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "CUDA", "cuda:-1", "cpu:0", " cpu", ""])
def test_bad_device_text_is_one_line(bad):
    with pytest.raises(DeviceError) as e:
        parse_device(bad)
    assert "use cpu, cuda or cuda:N" in str(e.value) and "\n" not in str(e.value)
    assert rt.check_device_text(bad) is not None


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without CUDA")
@pytest.mark.parametrize("dev", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_without_cuda_is_one_line(dev):
    with pytest.raises(DeviceError) as e:
        parse_device(dev)
    assert f"--device {dev}:" in str(e.value) and "--device cpu" in str(e.value)


def test_cuda_index_out_of_range(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert parse_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(DeviceError, match=r"has 2 CUDA device\(s\); use cuda:0..cuda:1"):
        parse_device("cuda:2")


def test_threads_apply_for_the_run_and_are_restored():
    import numba

    before = torch.get_num_threads()
    with runtime(1, "cpu", 5) as dev:
        assert dev == torch.device("cpu")
        assert torch.get_num_threads() == 1 and numba.get_num_threads() == 1
        info = machine_info(dev)
        assert (info["threads"], info["numba_threads"], info["device"]) == (1, 1, "cpu")
        a = torch.rand(3)
    assert torch.get_num_threads() == before
    apply_runtime(0, "cpu", 5)  # threads 0 leaves them; the seed is the run's seed
    assert torch.equal(torch.rand(3), a) and torch.get_num_threads() == before
    with pytest.raises(ConfigError):
        apply_runtime(-1)


def test_fused_engine_refuses_a_model_off_the_cpu():
    model = MLP([4, 3, 2], "tanh")
    assert fused_unsupported_reason(model, "sgd", 0, 0, 1) is None
    reason = fused_unsupported_reason(model.to("meta"), "sgd", 0, 0, 1)
    assert "meta" in reason and "CPU kernel" in reason


def test_fused_engine_flag_refused_off_cpu_in_one_line():
    from sparsenet.experiments.train.run import make_engine
    from sparsenet.experiments.train.config import TrainConfig

    with pytest.raises(ConfigError, match="--engine fused cannot run this setup: the model is on meta"):
        make_engine(TrainConfig(engine="fused"), MLP([4, 3, 2], "tanh").to("meta"))
    assert make_engine(TrainConfig(engine="auto"), MLP([4, 3, 2], "tanh").to("meta")).name == "torch"


COMMANDS = {  # argv prefix -> has --device
    ("train",): True, ("prune",): True, ("lottery",): True,
    ("reproduce", "seed-figure"): True, ("reproduce", "second-order"): True, ("bench",): False,
}


def _config_of(argv):
    from sparsenet.experiments.bench.config import BenchConfig
    from sparsenet.experiments.lottery.config import LotteryConfig
    from sparsenet.experiments.prune.config import PruneConfig
    from sparsenet.experiments.second_order.config import SecondOrderConfig
    from sparsenet.experiments.seed_figure.config import SeedFigureConfig
    from sparsenet.experiments.train.config import TrainConfig

    cls = {"train": TrainConfig, "prune": PruneConfig, "lottery": LotteryConfig, "bench": BenchConfig,
           "seed-figure": SeedFigureConfig, "second-order": SecondOrderConfig}[argv[-1] if argv[0] == "reproduce"
                                                                                else argv[0]]
    extra = ["--spec", "8-4-2"] if argv[0] == "lottery" else []
    args = build_parser().parse_args(list(argv) + extra + ["--threads", "3", "--seed", "7"]
                                     + (["--device", "cpu"] if COMMANDS[argv] else []))
    return build_config(cls, args)


@pytest.mark.parametrize("argv", list(COMMANDS), ids=" ".join)
def test_every_command_takes_threads_seed_and_device(argv):
    cfg = _config_of(argv)
    assert cfg.threads == 3
    assert (cfg.seed == 7) if argv[0] != "lottery" else (cfg.seeds == (7,))
    if COMMANDS[argv]:
        assert cfg.device == "cpu"


def test_lottery_seed_is_seeds_of_one():
    from sparsenet.config import config_from_dict
    from sparsenet.experiments.lottery.config import LotteryConfig

    a = config_from_dict(LotteryConfig, {"spec": "8-4-2", "seed": 3})
    b = config_from_dict(LotteryConfig, {"spec": "8-4-2", "seeds": [3]})
    assert a == b and run_name("lottery", a) == run_name("lottery", b)
    with pytest.raises(ConfigError, match="--seed 3 and --seeds 1,2 disagree"):
        config_from_dict(LotteryConfig, {"spec": "8-4-2", "seed": 3, "seeds": [1, 2]})


@pytest.mark.parametrize("argv", [
    ["train", "--dataset", "synthetic", "--spec", "64-8-10"],
    ["prune", "--dataset", "synthetic", "--model", "mlp", "--spec", "64-8-10"],
    ["lottery", "--dataset", "synthetic", "--model", "mlp", "--spec", "64-8-10", "--n-val", "0"],
    ["reproduce", "seed-figure", "--dataset", "synthetic"],
    ["reproduce", "second-order"],
], ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("device", ["gpu", "cuda:7"])
def test_unusable_device_is_one_line_and_leaves_no_run_dir(tmp_path, capsys, argv, device):
    if device.startswith("cuda") and torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    out = ["--run-dir", str(tmp_path / "run")] if argv[0] in ("train", "prune", "lottery") else \
        ["--out", str(tmp_path / "run")]
    rc = main(argv + out + ["--device", device, "--no-progress" if argv[0] != "reproduce" or
                            argv[1] == "seed-figure" else "--quick"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("sparsenet: error:") and len(err.splitlines()) == 1, err
    assert "--device" in err
    assert not (tmp_path / "run").exists()


def test_results_record_threads_numba_threads_and_device(tmp_path):
    from sparsenet.experiments.train.run import run_train
    from sparsenet.experiments.train.config import TrainConfig

    r = run_train(TrainConfig(dataset="synthetic", spec="64-16-10", burnin_steps=20, steps=40, budget=200,
                              threads=1, run_dir=str(tmp_path / "a"), progress=False))
    saved = json.loads((tmp_path / "a" / "results.json").read_text())
    assert r["machine"]["threads"] == saved["machine"]["threads"] == 1
    assert saved["machine"]["numba_threads"] == 1 and saved["machine"]["device"] == "cpu"


def test_runs_flush_denormals_and_restore_the_default_afterwards():
    import torch

    from sparsenet.train.runtime import runtime, runtime_info

    tiny = torch.tensor([1e-40])  # a float32 denormal
    assert runtime_info()["flush_denormal"] is False and float(tiny * 1.0) != 0.0
    with runtime(1):
        assert runtime_info()["flush_denormal"] is True
        assert float(tiny * 1.0) == 0.0
    assert runtime_info()["flush_denormal"] is False and float(tiny * 1.0) != 0.0
