"""SeedFigureConfig: the typed definition behind `sparsenet reproduce seed-figure`, and the seed's reference numbers."""
from __future__ import annotations

from dataclasses import dataclass

from ...config import all_positive, non_negative, option, positive
from ...train.runtime import DEVICE_HELP, SEED_HELP, THREADS_HELP, check_device_text, check_threads
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from .. import choices

# The seed's reported numbers (MNIST, the author's laptop, scipy): facts to compare against.
REFERENCE = {
    "dataset": "mnist", "widths": [2, 4, 8, 16, 32, 64, 128],
    "dense_accuracy": [0.192, 0.356, 0.672, 0.918, 0.940, 0.936, 0.938],
    "sparse_accuracy": [0.192, 0.204, 0.682, 0.880, 0.870, 0.890, 0.832],
    "dense_seconds": [181, 224, 290, 452, 798, 1527, 2869],
    "sparse_seconds": [181, 203, 191, 200, 199, 225, 256],
    "source": "design doc 000 (H. Lee, \"Stupid Optimization on MLP\", 2016): the numbers of its author's code",
}

FULL_WIDTHS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
# --quick: the dense PyTorch baseline is the cost (a step at H=4096 is ~16x one at H=256), so
# quick stops at 1024, trains 2,000 samples after pruning and tests on 2,000 examples.
QUICK_WIDTHS = (16, 64, 256, 1024)
QUICK_STEPS = 2000
QUICK_TEST = 2000
QUICK_OUT_SUFFIX = "-quick"
# config value -> the "variant" of its rows in results.json ("sparse" is the seed's, as before)
SPARSE_VARIANTS = {"seed": "sparse", "fixed-total": "fixed-total"}


@dataclass(frozen=True)
class SeedFigureConfig:
    dataset: str = option("fashion-mnist", help="dataset (the seed used mnist: --dataset mnist --data-dir DIR)", choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    widths: tuple[int, ...] = option(FULL_WIDTHS, help="hidden widths H of the MLP in-H-10", check=all_positive)
    budget: int = option(3180, help="live weights kept in the hidden layer (seed variant: halving until <= budget; fixed-total: exactly budget)", check=positive)
    sparse_variants: tuple[str, ...] = option(tuple(SPARSE_VARIANTS), help="sparse variants run next to the dense one: seed = hidden layer pruned to --budget, output layer dense (the seed's); fixed-total = the output layer pruned too, to --output-budget, so every width keeps budget + output-budget live weights", choices=tuple(SPARSE_VARIANTS))
    output_budget: int = option(160, help="live output-layer weights of the fixed-total variant (160 = the dense output layer at H=16)", check=positive)
    burnin_steps: int = option(200, help="dense online-SGD samples before pruning", check=non_negative)
    steps: int = option(30000, help="online-SGD samples after pruning", check=positive)
    lr: float = option(0.01, help="learning rate", check=positive)
    activation: str = option("tanh", help="hidden activation", choices=choices.activations)
    engine: str = option("auto", help="engine of the sparse variant (auto = the fused batch-1 kernel)", choices=("auto", "torch", "fused"))
    dense_engine: str = option("torch", help="engine of the dense variant: torch = dense PyTorch autograd + SGD (the project's baseline); fused = the same batch-1 kernel as the sparse variant", choices=("auto", "torch", "fused"))
    n_test: int | None = option(None, help="test examples used (default: the full test set; --quick: 2,000)", check=lambda v: None if v is None else positive(v))
    quick: bool = option(False, help=f"reduced run in under 2 minutes: widths {','.join(map(str, QUICK_WIDTHS))} (unless --widths), {QUICK_STEPS:,} samples after pruning, {QUICK_TEST:,} test examples (unless --n-test), output in OUT/seed-figure{QUICK_OUT_SUFFIX}")
    seed: int = option(0, help=SEED_HELP)
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    device: str = option("cpu", help=DEVICE_HELP + " (on CUDA both variants train with torch autograd)", check=check_device_text)
    out: str = option("runs", help=OUT_HELP.replace("NAME-<hash>", "seed-figure, seed-figure-quick, or with a hash of other settings"))
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP + " (finished (width, variant) runs are reused)")
    progress: bool = option(True, help="show progress bars on a terminal")
