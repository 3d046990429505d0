"""The training commands on --device cuda (tiny runs); skipped without a GPU."""
import pytest
import torch

from sparsenet.cli import main
from sparsenet.experiments.train.run import run_train
from sparsenet.experiments.train.config import TrainConfig

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _cfg(tmp_path, **kw):
    base = dict(dataset="synthetic", spec="64-32-10", burnin_steps=50, steps=100, budget=300,
                device="cuda", run_dir=str(tmp_path / "run"), progress=False)
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize("batch", [1, 16])
def test_train_on_cuda_matches_cpu_closely(tmp_path, batch):
    r = run_train(_cfg(tmp_path, batch_size=batch, engine="torch"))
    c = run_train(_cfg(tmp_path, batch_size=batch, engine="torch", device="cpu", run_dir=str(tmp_path / "cpu")))
    assert r["engine"] == "torch" and r["machine"]["device"].startswith("cuda") and "gpu" in r["machine"]
    assert r["live_weights"] == c["live_weights"]
    assert abs(r["test_accuracy"] - c["test_accuracy"]) < 0.05


def test_auto_engine_falls_back_to_torch_and_fused_is_refused(tmp_path, capsys):
    assert run_train(_cfg(tmp_path))["engine"] == "torch"
    rc = main(["train", "--dataset", "synthetic", "--spec", "64-32-10", "--device", "cuda", "--engine", "fused",
               "--no-progress", "--run-dir", str(tmp_path / "f")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "CPU kernel" in err and len(err.splitlines()) == 1


def test_prune_and_second_order_on_cuda(tmp_path):
    rc = main(["prune", "--dataset", "synthetic", "--model", "mlp", "--spec", "64-32-10", "--train-steps", "50",
               "--retrain-steps", "20", "--criteria", "magnitude,snip", "--sparsities", "0.5", "--device", "cuda",
               "--no-progress", "--run-dir", str(tmp_path / "p")])
    assert rc == 0
    rc = main(["reproduce", "second-order", "--quick", "--dataset", "synthetic", "--parts", "slow-net,pruned",
               "--device", "cuda", "--out", str(tmp_path / "s")])
    assert rc == 0


def test_lottery_on_cuda(tmp_path):
    rc = main(["lottery", "--dataset", "synthetic", "--model", "mlp", "--spec", "64-32-10", "--levels", "1",
               "--steps", "40", "--eval-every", "20", "--n-val", "200", "--batch-size", "20", "--device", "cuda",
               "--no-progress", "--no-report", "--run-dir", str(tmp_path / "l")])
    assert rc == 0
