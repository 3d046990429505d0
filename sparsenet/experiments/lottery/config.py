"""LotteryConfig: the typed definition behind `sparsenet lottery` (flags and TOML come from it).

Values that only make sense together (rewind step vs training length, levels vs layer sizes) are
checked before any work by `validate` and `sparsenet.experiments.lottery.run.check_feasible`, with the
`sparsenet.lottery.errors` classes.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...config import non_negative, option, positive
from ...lottery.controls import CONTROLS
from ...lottery.errors import PruneRateError, RewindError, TopKError
from ...lottery.imp import check_rate
from ...lottery.training import TrainSpec
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.execution import EXECUTION_HELP, EXECUTIONS
from ...train.runtime import DEVICE_HELP, THREADS_HELP, check_device_text, check_threads
from .. import choices


def _unit(v):
    return None if 0 <= v < 1 else "must be in [0, 1)"



def _non_negative_all(v):
    return None if all(x >= 0 for x in v) else "every entry must be >= 0"


@dataclass(frozen=True)
class LotteryConfig:
    dataset: str = option("fashion-mnist", help="dataset name", choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    data_seed: int | None = option(None, help=choices.DATA_SEED_HELP)
    model: str = option("lenet300100", help="model name (MLPs; LeNet-300-100 is 784-300-100-10 ReLU)", choices=choices.models)
    spec: str | None = option(None, help="layer sizes for --model mlp, e.g. 64-32-10")
    activation: str = option("relu", help="hidden activation", choices=choices.activations)
    optimizer: str = option("adam", help="optimizer (Frankle & Carbin: Adam 1.2e-3, batch 60)", choices=choices.optimizers)
    lr: float = option(1.2e-3, help="learning rate", check=positive)
    momentum: float = option(0.0, help="SGD momentum", check=non_negative)
    batch_size: int = option(60, help="examples per step", check=positive)
    execution: str = option("auto", help=EXECUTION_HELP + " (tickets, controls and early-bird tickets; level 0 is dense)", choices=EXECUTIONS)
    steps: int = option(3000, help="training steps per level (the same T for every level and control)", check=positive)
    eval_every: int = option(250, help="steps between validation/test evaluations (early-stopping curve)", check=positive)
    n_val: int = option(5000, help="training examples held out (the last ones) as the validation set (5000 suits Fashion-MNIST/MNIST; 0 = none: train on all, no early-stopping or learning-speed measures)", check=non_negative)
    n_train: int | None = option(None, help="use only the first N training examples (before the validation split)", check=positive)
    n_test: int | None = option(None, help="use only the first N test examples", check=positive)
    label_noise: float = option(0.0, help="fraction of training labels replaced by random labels (sparse double descent)", check=_unit)
    levels: int = option(12, help="pruning levels after the dense level 0", check=non_negative)
    rate: float = option(0.2, help="fraction of the surviving weights pruned per level, in (0, 1)")
    output_rate: float | None = option(0.1, help="rate for the output layer (none = --rate)")
    scope: str = option("layerwise", help="rank per layer, or the hidden layers together (output layer apart)", choices=("layerwise", "global"))
    include_bias: bool = option(False, help="prune the biases too, each layer's with its weights at the layer's rate (some lottery protocols prune weights and biases together)")
    criterion: str = option("large_final", help="mask criterion of Zhou et al. used by IMP", choices=choices.ticket_criteria, check=choices.ticket_criterion_check)
    rewind_step: int = option(0, help="rewind to the weights after this many dense steps (0 = θ0, Frankle & Carbin; k > 0 = late rewinding)", check=non_negative)
    controls: tuple[str, ...] = option(("reinit",), help="controls trained at each control level", choices=CONTROLS)
    control_levels: tuple[int, ...] = option((), help="levels at which controls are trained (empty = every level >= 1)", check=_non_negative_all)
    supermask_criteria: tuple[str, ...] = option(("large_final", "large_final_same_sign", "magnitude_increase", "random"), help="criteria whose one-shot masks at the control levels' densities are evaluated untrained", choices=choices.ticket_criteria, check=choices.ticket_criterion_check)
    early_bird: bool = option(False, help="also draw an early-bird ticket (You et al. 2020) at the density of --eb-level and train it")
    eb_structure: tuple[str, ...] = option(("unstructured",), help="early-bird mask structures", choices=("unstructured", "neuron"))
    eb_level: int | None = option(None, help="IMP level whose per-layer density the early-bird ticket gets (none = --levels)")
    eb_retrain: tuple[str, ...] = option(("rewind",), help="how the drawn ticket is trained: rewind (from θ0 for --steps, a lottery ticket) or continue (from the weights at the draw, to --steps in total, as the paper's retraining of the pruned net)", choices=("rewind", "continue"))
    eb_every: int = option(100, help="steps between early-bird mask checks (an 'epoch' of the paper)", check=positive)
    eb_window: int = option(5, help="number of consecutive mask distances whose max must be under the threshold", check=positive)
    eb_threshold: float = option(0.1, help="early-bird draw threshold on the normalized Hamming distance", check=positive)
    eb_neuron_rate: float = option(0.5, help="fraction of hidden units an early-bird neuron-level ticket removes")
    edge_popup_k: tuple[float, ...] = option((), help="edge-popup sweep: percents of weights kept, each in (0, 100] (empty = skip)")
    edge_popup_init: tuple[str, ...] = option(("signed_constant", "kaiming_normal"), help="frozen random weights for edge-popup", choices=("signed_constant", "kaiming_normal"))
    edge_popup_steps: int | None = option(None, help="score-training steps for edge-popup (none = --steps)", check=positive)
    edge_popup_lr: float = option(0.001, help="Adam learning rate of the edge-popup scores (0.01 makes the top-k set churn: 73% vs 85% at k=50 on Fashion-MNIST)", check=positive)
    neuron_vs_weight: bool = option(False, help="also compare weight vs neuron pruning of the same random net at each --edge-popup-k (Malach et al. 2020)")
    approx_widths: tuple[int, ...] = option((), help="approximation demo (Malach et al. 2020): widths n of the random depth-4 nets pruned to mimic a trained depth-2 target (empty = skip)", check=lambda v: None if all(x > 0 for x in v) else "every width must be a positive integer")
    approx_target_width: int = option(16, help="hidden width of the depth-2 target network of the approximation demo", check=positive)
    approx_k: float = option(50.0, help="percent of weights the approximation demo keeps, in (0, 100]")
    seeds: tuple[int, ...] = option((0,), help="seeds; each gets its own IMP run, reported as mean ± std")
    seed: int | None = option(None, help="the run's seed: --seed N is --seeds N (one seed)")
    threads: int = option(1, help=THREADS_HELP + "; the default 1 avoids oversubscribing a shared machine", check=check_threads)
    device: str = option("cpu", help=DEVICE_HELP, check=check_device_text)
    progress: bool = option(True, help="show a progress bar on a terminal")
    report: bool = option(True, help="write report.md and the figures into the run directory at the end (sparsenet report RUN_DIR redoes it)")
    out: str = option("runs", help=OUT_HELP)
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP)

    def validate(self) -> None:
        if self.seed is not None:  # one canonical form, so --seed N and --seeds N name the same run
            if self.seeds not in ((0,), (self.seed,)):
                raise ValueError(f"--seed {self.seed} and --seeds {','.join(map(str, self.seeds))} disagree; "
                                 f"give one of them")
            object.__setattr__(self, "seeds", (self.seed,))
            object.__setattr__(self, "seed", None)
        check_rate(self.rate, "--rate")
        if self.output_rate is not None:
            check_rate(self.output_rate, "--output-rate")
        if not 0 < self.eb_neuron_rate < 1:
            raise PruneRateError(f"--eb-neuron-rate {self.eb_neuron_rate!r} is outside (0, 1): it is the "
                                 f"fraction of hidden units removed, e.g. 0.5")
        if self.rewind_step >= self.steps:
            raise RewindError(f"--rewind-step {self.rewind_step} is beyond the training length of {self.steps} "
                              f"steps; use 0 <= --rewind-step < --steps (0 rewinds to initialization)")
        for k in (*self.edge_popup_k, self.approx_k):
            if not 0 < k <= 100:
                raise TopKError(f"edge-popup k {k!r} is outside (0, 100]: it is the percent of weights kept, "
                                f"e.g. --edge-popup-k 10,50,90")
        if self.eb_level is not None and not 0 <= self.eb_level <= self.levels:
            raise ValueError(f"--eb-level {self.eb_level} is not a level of this run; use 0..{self.levels}")
        bad = [lv for lv in self.control_levels if lv > self.levels]
        if bad:
            raise ValueError(f"--control-levels {bad[0]} is beyond --levels {self.levels}; use levels 1..{self.levels}")
        if len(set(self.seeds)) != len(self.seeds) or not self.seeds:
            raise ValueError(f"--seeds {list(self.seeds)} must be distinct and non-empty, e.g. --seeds 0,1,2")
        if self.model == "mlp" and not self.spec:
            raise ValueError("--model mlp needs --spec, e.g. --spec 64-32-10")

    @property
    def eval_levels(self) -> list[int]:
        """Levels at which the controls (and supermask evaluations) run."""
        return sorted(set(self.control_levels)) if self.control_levels else list(range(1, self.levels + 1))


def train_spec(cfg: LotteryConfig) -> TrainSpec:
    """How each ticket and control is trained, from the config."""
    return TrainSpec(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, optimizer=cfg.optimizer,
                     momentum=cfg.momentum, eval_every=cfg.eval_every, log_every=cfg.eval_every,
                     execution=cfg.execution)


__all__ = ["LotteryConfig", "train_spec"]
