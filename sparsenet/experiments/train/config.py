"""TrainConfig: the typed definition behind `sparsenet train` (flags and TOML come from it)."""
from __future__ import annotations

from dataclasses import dataclass

from ...config import all_positive, in_unit_interval_open_right, non_negative, option, positive
from ...errors import ConfigError
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.execution import EXECUTION_HELP, EXECUTIONS
from ...train.runtime import DEVICE_HELP, SEED_HELP, THREADS_HELP, check_device_text, check_threads
from .. import choices



@dataclass(frozen=True)
class TrainConfig:
    dataset: str = option("fashion-mnist", help="dataset name", choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    data_seed: int | None = option(None, help=choices.DATA_SEED_HELP)
    model: str = option("mlp", help="model name", choices=choices.models)
    spec: str = option("784-300-100-10", help="layer sizes for --model mlp, e.g. 784-300-100-10; rnn F-H-C (28-128-10), hashed-mlp 784-1000-10@1/64, lowrank-mlp 784-300-10@196:dct, kwta-mlp 784-1000-1000-10@0.1 (sparsenet/models/compressed.py)")
    activation: str | None = option(None, help="hidden activation (default: the model's own: tanh for mlp, as in the seed; relu for lenet300100 and convnet)", choices=choices.activations)
    leaky_slope: float = option(0.01, help="negative slope of leaky_relu", check=non_negative)
    optimizer: str = option("sgd", help="optimizer", choices=choices.optimizers)
    lr: float = option(0.01, help="learning rate", check=positive)
    momentum: float = option(0.0, help="SGD momentum", check=non_negative)
    weight_decay: float = option(0.0, help="L2 weight decay", check=non_negative)
    batch_size: int = option(1, help="examples per step (1 = online SGD, as in the seed)", check=positive)
    burnin_steps: int = option(200, help="dense steps before pruning (0 = prune at initialisation)", check=non_negative)
    steps: int = option(30000, help="training steps after burn-in (and pruning)", check=positive)
    prune: str = option("magnitude", help="pruning after burn-in ('none' keeps training dense)", choices=("none", "magnitude"))
    rule: str = option("halving", help="budget: keep exactly --budget weights; halving: drop the survivors below the median |w| until <= --budget (or --halvings times); sparsity: remove --sparsity of the weights", choices=("budget", "halving", "sparsity"))
    budget: int | None = option(3180, help="live weights to keep per pruned layer (or in total with --scope global)", check=positive)
    halvings: int | None = option(None, help="number of halving rounds for --rule halving (instead of --budget)", check=positive)
    sparsity: float | None = option(None, help="fraction of weights removed, for --rule sparsity", check=lambda v: None if v is None else in_unit_interval_open_right(v))
    scope: str = option("layerwise", help="selection per layer or one global ranking", choices=choices.scopes)
    skip: tuple[str, ...] = option(("last",), help="layers never pruned: parameter names, globs, 'first' or 'last' (the seed keeps the output layer dense)")
    output_budget: int | None = option(None, help="prune the output layer too, first, to this many live weights (even when --skip names it); the other pruned layers then keep their --budget only on units that still have an output, so the total live weights are fixed (MLP, --rule budget or halving, --scope layerwise)", check=positive)
    remove_unconnected: bool = option(True, help="after pruning, remove hidden units with no inputs or no outputs (folding constants into the next bias)")
    execution: str = option("csr", help=EXECUTION_HELP + "; the default csr is the pipeline behind the documented numbers; masked and auto with masked layers train with --engine torch (the fused kernel runs no mask hooks)", choices=EXECUTIONS)
    engine: str = option("auto", help="auto: the fused batch-1 kernel when it applies (MLP, SGD, batch 1), else torch autograd", choices=("auto", "torch", "fused"))
    n_train: int | None = option(None, help="use only the first N training examples", check=positive)
    n_test: int | None = option(None, help="use only the first N test examples (default: the full test set)", check=positive)
    log_every: int = option(1000, help="steps between training-loss lines in metrics.jsonl", check=positive)
    eval_every: int = option(0, help="steps between test evaluations (0 = at the end of each phase only)", check=non_negative)
    checkpoint_every: int = option(5000, help="steps between checkpoints (at most this much work is lost when killed)", check=positive)
    grad_samples: int = option(256, help="training examples averaged for the gradient-magnitude histograms", check=positive)
    seed: int = option(0, help=SEED_HELP)
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    device: str = option("cpu", help=DEVICE_HELP + "; on CUDA --engine auto trains with torch autograd", check=check_device_text)
    out: str = option("runs", help=OUT_HELP)
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP)
    progress: bool = option(True, help="show a progress bar on a terminal")

    def validate(self) -> None:
        if self.prune == "none":
            return
        if self.rule == "budget" and self.budget is None:
            raise ConfigError("--rule budget needs --budget N (live weights to keep)")
        if self.rule == "halving" and self.budget is None and self.halvings is None:
            raise ConfigError("--rule halving needs --budget N or --halvings K")
        if self.rule == "sparsity" and self.sparsity is None:
            raise ConfigError("--rule sparsity needs --sparsity S (fraction removed, in [0, 1))")
        if self.output_budget is not None and (self.rule == "sparsity" or self.scope != "layerwise"
                                               or self.budget is None):
            raise ConfigError(f"--output-budget {self.output_budget} needs --rule budget or halving "
                              "with --budget N and --scope layerwise; drop --output-budget or change those")


__all__ = ["TrainConfig", "all_positive"]
