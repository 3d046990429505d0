"""`sparsenet reproduce seed-figure`: the seed's two figures (accuracy and training time vs hidden
width at a fixed weight budget), dense vs sparsified MLP in-H-10, online SGD.

Protocol (seed 000, from its author's code): tanh hidden units, batch 1, lr 0.01, 200 dense
burn-in samples, then the hidden layer is pruned by magnitude — repeated halving at the median
of the surviving |w| until at most the budget (~3,180) remains — the output layer stays dense,
then 30,000 more samples. Each (width, variant) is an ordinary `sparsenet train` run directory
under `runs/`; finished ones are skipped on rerun, so the sweep resumes where it stopped.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .. import io
from ..config import all_positive, config_to_dict, non_negative, option, positive
from ..train import FusedEngine, machine_info
from .train import VERSION, run_train
from .train_config import TrainConfig

# The seed's reported numbers (MNIST, the author's laptop, scipy): facts to compare against.
REFERENCE = {
    "dataset": "mnist", "widths": [2, 4, 8, 16, 32, 64, 128],
    "dense_accuracy": [0.192, 0.356, 0.672, 0.918, 0.940, 0.936, 0.938],
    "sparse_accuracy": [0.192, 0.204, 0.682, 0.880, 0.870, 0.890, 0.832],
    "dense_seconds": [181, 224, 290, 452, 798, 1527, 2869],
    "sparse_seconds": [181, 203, 191, 200, 199, 225, 256],
    "source": "seed 000 (H. Lee, 'Stupid Optimization on MLP', 2016), numbers from its author's code as quoted in issue 2",
}

FULL_WIDTHS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
QUICK_WIDTHS = (16, 64, 256, 1024, 4096)


def _datasets():
    from ..data import dataset_names

    return dataset_names()


@dataclass(frozen=True)
class SeedFigureConfig:
    dataset: str = option("fashion-mnist", help="dataset (the seed used mnist: --dataset mnist --data-dir DIR)", choices=_datasets)
    data_dir: str | None = option(None, help="directory holding the dataset files")
    widths: tuple[int, ...] = option(FULL_WIDTHS, help="hidden widths H of the MLP in-H-10", check=all_positive)
    budget: int = option(3180, help="live weights kept in the hidden layer (halving until <= budget)", check=positive)
    burnin_steps: int = option(200, help="dense online-SGD samples before pruning", check=non_negative)
    steps: int = option(30000, help="online-SGD samples after pruning", check=positive)
    lr: float = option(0.01, help="learning rate", check=positive)
    activation: str = option("tanh", help="hidden activation", choices=("tanh", "relu", "leaky_relu"))
    engine: str = option("auto", help="engine of the sparse variant (auto = the fused batch-1 kernel)", choices=("auto", "torch", "fused"))
    dense_engine: str = option("torch", help="engine of the dense variant: torch = dense PyTorch autograd + SGD (the project's baseline); fused = the same batch-1 kernel as the sparse variant", choices=("auto", "torch", "fused"))
    quick: bool = option(False, help=f"reduced run (widths {','.join(map(str, QUICK_WIDTHS))}, 3,000 samples) in under 5 minutes")
    seed: int = option(0, help="random seed")
    out: str = option("runs/seed-figure", help="output directory")
    resume: bool = option(True, help="skip finished (width, variant) runs and resume the others")
    progress: bool = option(True, help="show progress bars on a terminal")


def effective(cfg: SeedFigureConfig) -> tuple[tuple[int, ...], int]:
    if cfg.quick:
        return (cfg.widths if cfg.widths != FULL_WIDTHS else QUICK_WIDTHS), min(cfg.steps, 3000)
    return cfg.widths, cfg.steps


def run_config(cfg: SeedFigureConfig, width: int, variant: str, in_features: int, classes: int,
               steps: int) -> TrainConfig:
    out = Path(cfg.out)
    return TrainConfig(
        dataset=cfg.dataset, data_dir=cfg.data_dir, model="mlp", spec=f"{in_features}-{width}-{classes}",
        activation=cfg.activation, optimizer="sgd", lr=cfg.lr, batch_size=1,
        burnin_steps=cfg.burnin_steps, steps=steps, prune="none" if variant == "dense" else "magnitude",
        rule="halving", budget=cfg.budget, skip=("last",), remove_unconnected=True,
        engine=cfg.dense_engine if variant == "dense" else cfg.engine,
        log_every=1000, eval_every=0, checkpoint_every=10000, seed=cfg.seed,
        run_dir=str(out / "runs" / f"w{width}-{variant}-{cfg.dense_engine if variant == 'dense' else cfg.engine}"), resume=True, progress=cfg.progress)


def run_seed_figure(cfg: SeedFigureConfig) -> dict:
    from ..data import load_dataset
    from ..report import write_report

    widths, steps = effective(cfg)
    data = load_dataset(cfg.dataset, cfg.data_dir, seed=cfg.seed)
    out = Path(cfg.out)
    io.write_json(out / "config.json", {"experiment": "seed-figure", "config": config_to_dict(cfg),
                                         "version": VERSION, "command": "sparsenet " + " ".join(sys.argv[1:])})
    rows = []
    for width in widths:
        for variant in ("dense", "sparse"):
            tc = run_config(cfg, width, variant, data.in_features, data.num_classes, steps)
            print(f"[seed-figure] H={width} {variant} ...", file=sys.stderr, flush=True)
            r = run_train(tc, command=f"sparsenet reproduce seed-figure (H={width}, {variant})")
            hidden = r["layers"][0]
            rows.append({
                "width": width, "variant": variant, "live_weights": r["live_weights"],
                "hidden_live_weights": hidden["live"], "live_hidden_units": r["hidden_units"][0],
                "train_seconds": r["train_seconds"], "phase_seconds": r["phase_seconds"],
                "test_accuracy": r["test_accuracy"], "test_loss": r["test_loss"], "engine": r["engine"],
                "run_dir": str(Path(tc.run_dir).relative_to(out))})
            print(f"[seed-figure] H={width} {variant}: acc {r['test_accuracy']:.4f} "
                  f"time {r['train_seconds']:.2f}s live {r['live_weights']}", file=sys.stderr, flush=True)
    results = {"experiment": "seed-figure", "dataset": cfg.dataset, "budget": cfg.budget,
               "samples": {"burnin": cfg.burnin_steps, "after_pruning": steps},
               "quick": cfg.quick, "machine": machine_info(),
               "compile_seconds": FusedEngine.compile_seconds, "rows": rows, "reference": REFERENCE}
    io.write_json(out / "results.json", results)
    write_report(out)
    return results
