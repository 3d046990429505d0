"""SecondOrderConfig: the typed definition behind `sparsenet reproduce second-order`, and its parts."""
from __future__ import annotations

from dataclasses import dataclass

from ...config import option, positive
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.runtime import DEVICE_HELP, SEED_HELP, THREADS_HELP, check_device_text, check_threads
from .. import choices

PARTS = ("saddle", "rosenbrock", "slow-net", "pruned")
# Settings each part depends on (a part is recomputed when one of them changed).
PART_KEYS = {
    "saddle": ("toy_iterations", "seed"),
    "rosenbrock": ("toy_iterations",),
    "slow-net": ("dataset", "train_samples", "iterations", "batch_size", "width", "slope", "eval_samples", "test_samples", "eval_every",
                 "sgd_lr", "adam_lr", "sfn_lr", "sfn_damping", "krylov_k", "hf_damping", "hf_cg_iters", "seed", "quick"),
    "pruned": ("dataset", "train_samples", "batch_size", "eval_samples", "test_samples", "eval_every", "pruned_sgd_lr", "pruned_adam_lr", "sfn_damping",
               "pruned_hidden", "burnin_steps", "live_weights", "pruned_iterations", "pruned_sfn_lr", "seed", "quick"),
}


def _parts_check(parts) -> str | None:
    bad = [p for p in parts if p not in PARTS]
    if bad or not parts:
        return f"unknown part(s) {', '.join(bad) or '(none)'}; valid parts: {', '.join(PARTS)}"
    return None


@dataclass(frozen=True)
class SecondOrderConfig:
    dataset: str = option("fashion-mnist", help="dataset of parts slow-net and pruned (the seed: --dataset cifar100 --data-dir DIR)", choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    parts: tuple[str, ...] = option(PARTS, help="parts to run", check=_parts_check)
    toy_iterations: int = option(100, help="iterations of the saddle and Rosenbrock parts", check=positive)
    iterations: int = option(100, help="slow-net iterations (minibatches) per method", check=positive)
    batch_size: int = option(50, help="minibatch size (the seed: 50)", check=positive)
    width: int = option(50, help="slow net: projection and hidden width (the seed: 50)", check=positive)
    slope: float = option(0.5, help="slow net: leaky ReLU negative slope (the seed: 0.5)", check=positive)
    train_samples: int = option(0, help="use only the first N training samples (0 = all)", check=lambda v: None if v >= 0 else "must be >= 0")
    eval_samples: int = option(5000, help="training samples on which the training loss is measured", check=positive)
    test_samples: int = option(10000, help="test samples for the test accuracy", check=positive)
    eval_every: int = option(10, help="evaluate every this many iterations", check=positive)
    sgd_lr: float = option(0.5, help="slow net: SGD learning rate (best of 0.05, 0.1, 0.2, 0.5 on the slow net)", check=positive)
    adam_lr: float = option(0.01, help="slow net: Adam learning rate (best of 1e-3, 3e-3, 1e-2 on the slow net)", check=positive)
    sfn_lr: float = option(0.1, help="saddle-free Newton step size α on the slow net (the seed: 0.1)", check=positive)
    sfn_damping: float = option(0.1, help="saddle-free Newton damping δ > 0 (the seed: 0.1)", check=positive)
    krylov_k: int = option(20, help="Krylov subspace dimension", check=positive)
    hf_damping: float = option(1.0, help="Hessian-free initial Levenberg-Marquardt damping", check=positive)
    hf_cg_iters: int = option(20, help="Hessian-free CG iterations per step", check=positive)
    pruned_hidden: int = option(64, help="pruned part: hidden width of the MLP in-H-classes (tanh)", check=positive)
    burnin_steps: int = option(500, help="pruned part: dense SGD minibatches before pruning", check=positive)
    live_weights: int = option(2500, help="pruned part: weights kept by global magnitude pruning (biases stay)", check=positive)
    pruned_iterations: int = option(30, help="pruned part: iterations per method after pruning", check=positive)
    pruned_sgd_lr: float = option(0.03, help="pruned part: SGD learning rate, burn-in and after pruning (best of 0.01, 0.03, 0.1, 0.2 dense)", check=positive)
    pruned_adam_lr: float = option(0.003, help="pruned part: Adam learning rate (best of 3e-4, 1e-3, 3e-3 dense)", check=positive)
    pruned_sfn_lr: float = option(1.0, help="pruned part: saddle-free Newton step size", check=positive)
    threads: int = option(0, help=THREADS_HELP + "; 1 avoids stalls of threaded LAPACK on an oversubscribed machine", check=check_threads)
    device: str = option("cpu", help=DEVICE_HELP + " (parts slow-net and pruned; the 2-D toy problems stay on CPU)", check=check_device_text)
    quick: bool = option(False, help="CI-sized run (well under a minute): small nets and few iterations")
    seed: int = option(0, help=SEED_HELP)
    out: str = option("runs", help=OUT_HELP.replace("NAME-<hash>", "second-order, second-order-quick, or with a hash of other settings"))
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP + " (parts done with the same settings are reused)")
