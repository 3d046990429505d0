"""DstConfig: the typed definition behind `sparsenet dst` (flags and TOML come from it)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ...config import non_negative, option, positive, probability_open
from ...errors import ConfigError
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.runtime import DEVICE_HELP, THREADS_HELP, check_device_text, check_threads
from .. import choices

EXECUTIONS = ("csr", "masked")
EPSILON = 20.0  # SET's default ε (Mocanu et al. 2018)


def _methods() -> list[str]:
    from ...dst import DST_METHODS

    return DST_METHODS.names()


def _drop_rules() -> list[str]:
    from ...dst import DROP_RULES

    return list(DROP_RULES)


def _decays() -> list[str]:
    from ...dst.rates import DECAYS

    return list(DECAYS)


def _hidden_check(v: str) -> str | None:
    parts = v.split("-") if v else []
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        return "must be the hidden layer sizes joined by '-', e.g. 300-100 (input and output sizes come from the data)"
    return None


def _methods_check(values) -> str | None:
    if not values:
        return "give at least one method"
    if len(set(values)) != len(values):
        return "each method once"
    return None


def _fraction_of_one(v) -> str | None:
    return None if 0 < v <= 1 else "must be in (0, 1] (a fraction of the weights)"


@dataclass(frozen=True)
class DstConfig:
    dataset: str = option("fashion-mnist", help="dataset name", choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    data_seed: int | None = option(None, help=choices.DATA_SEED_HELP)
    hidden: str = option("300-100", help="hidden layer sizes of the MLP, e.g. 300-100 (LeNet-300-100) or 1000-1000-1000; input and output sizes come from the data", check=_hidden_check)
    activation: str = option("relu", help="hidden activation", choices=choices.activations)
    methods: tuple[str, ...] = option(("static", "set", "rigl", "snfs", "grow-prune"), help="dynamic sparse training methods to run (static = the fixed Erdős–Rényi control)", choices=_methods, check=_methods_check)
    seeds: tuple[int, ...] = option((0,), help="seeds; each (method, seed) is one trial, reported as mean ± std")
    seed: int | None = option(None, help="the run's seed: --seed N is --seeds N (one seed)")
    steps: int = option(2000, help="training steps of each trial", check=positive)
    batch_size: int = option(128, help="examples per step", check=positive)
    optimizer: str = option("sgd", help="optimizer", choices=choices.optimizers)
    lr: float = option(0.05, help="learning rate", check=positive)
    momentum: float = option(0.9, help="SGD momentum", check=non_negative)
    weight_decay: float = option(0.0, help="L2 weight decay", check=non_negative)
    epsilon: float | None = option(None, help=f"SET's ε: a layer of n_in inputs and n_out outputs keeps ε(n_in + n_out)/(n_in·n_out) of its weights; a layer where that exceeds 1 is dense (none = {EPSILON:g} unless --density is given)", check=positive)
    density: float | None = option(None, help="overall density of the sparse layers instead of --epsilon, split over the layers by --allocation", check=_fraction_of_one)
    allocation: str = option("erk", help="per-layer split of --density: erk, er or uniform", choices=("erk", "er", "uniform"))
    zeta: float = option(0.3, help="ζ: the fraction of each layer's live weights replaced at an update", check=probability_open)
    delta_t: int = option(100, help="ΔT: steps between pattern updates", check=positive)
    end_step: int | None = option(None, help="no pattern update at or after this step (none = 0.75 × --steps)", check=positive)
    decay: str | None = option(None, help="decay of ζ over the updates (none = the method's: constant for SET, cosine for the others)", choices=_decays)
    drop: str | None = option(None, help="drop rule (none = the method's: set = ζ of the smallest positive and ζ of the largest negative weights, magnitude = the smallest |w|)", choices=_drop_rules)
    init: str = option("method", help="new connections start at zero or at a small random value (uniform ±1/sqrt(fan-in)); "
                       "method = the method's own (random for set, as its paper; zero for the others)",
                       choices=("method", "zero", "random"))
    snfs_momentum: float = option(0.9, help="snfs: momentum factor β of the inactive connections' momentum estimate", check=non_negative)
    window: int = option(1, help="snfs: batches before each update over which that momentum is estimated (1..--delta-t)", check=positive)
    start_density: float | None = option(None, help="grow-prune: overall density of the sparse layers at the start (none = the final one)", check=_fraction_of_one)
    peak_density: float | None = option(None, help="grow-prune: overall density at the peak (none = twice the final one, at most 1)", check=_fraction_of_one)
    grow_end: int | None = option(None, help="grow-prune: the step at which the peak is reached (none = 0.2 × --steps)", check=positive)
    prune_end: int | None = option(None, help="grow-prune: the step at which the cubic pruning reaches the final density (none = 0.5 × --steps)", check=positive)
    execution: str = option("csr", help="csr: the sparse layers are SparseLinear (CSR kernels, O(nnz)); masked: dense nn.Linear with the masks enforced (the same choices, for comparison)", choices=EXECUTIONS)
    eval_every: int | None = option(None, help="steps between test evaluations (none = --steps / 10)", check=positive)
    checkpoint_every: int | None = option(None, help="steps between checkpoints of a trial; a multiple of --delta-t (none = 10 × --delta-t)", check=positive)
    hist_bins: int = option(60, help="bins of the final |w| histogram (log-spaced, 1e-6 to 10)", check=positive)
    n_train: int | None = option(None, help="use only the first N training examples", check=positive)
    n_test: int | None = option(None, help="use only the first N test examples", check=positive)
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    device: str = option("cpu", help=DEVICE_HELP, check=check_device_text)
    out: str = option("runs", help=OUT_HELP)
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP)
    progress: bool = option(True, help="show progress bars on a terminal")

    def validate(self) -> None:
        if self.seed is not None:  # one canonical form, so --seed N and --seeds N name the same run
            if self.seeds not in ((0,), (self.seed,)):
                raise ConfigError(f"--seed {self.seed} and --seeds {','.join(map(str, self.seeds))} disagree; "
                                  "give one of them")
            object.__setattr__(self, "seeds", (self.seed,))
            object.__setattr__(self, "seed", None)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"--seeds {list(self.seeds)} must be distinct and non-empty, e.g. --seeds 0,1,2")
        if self.epsilon is not None and self.density is not None:
            raise ConfigError(f"give one of --epsilon {self.epsilon:g} (SET's ε, per layer) and --density "
                              f"{self.density:g} (overall, split by --allocation), not both")
        if self.end_step is not None and self.end_step > self.steps:
            raise ConfigError(f"--end-step {self.end_step} is beyond training (--steps {self.steps}); "
                              f"pattern updates stop at --end-step, so give at most {self.steps}")
        if self.delta_t >= self.final_step():
            raise ConfigError(f"--delta-t {self.delta_t} leaves no pattern update before --end-step "
                              f"{self.final_step()}; give a smaller --delta-t or a later --end-step")
        if self.checkpoint_every is not None and self.checkpoint_every % self.delta_t:
            raise ConfigError(f"--checkpoint-every {self.checkpoint_every} must be a multiple of --delta-t "
                              f"{self.delta_t} (a checkpoint then falls between pattern updates), e.g. "
                              f"{self.delta_t * max(1, round(self.checkpoint_every / self.delta_t))}")
        if "snfs" in self.methods:
            if not self.snfs_momentum < 1:
                raise ConfigError(f"--snfs-momentum {self.snfs_momentum} must be in [0, 1)")
            if self.window > self.delta_t:
                raise ConfigError(f"--window {self.window} must be at most --delta-t {self.delta_t} "
                                  "(the batches before one update)")
        if "grow-prune" in self.methods:
            g, p, e = self.grow_steps()
            if not 0 < g < p <= e:
                raise ConfigError(f"grow-prune needs 0 < --grow-end ({g}) < --prune-end ({p}) <= --end-step ({e})")
        if self.start_density is not None and self.peak_density is not None and self.peak_density < self.start_density:
            raise ConfigError(f"--peak-density {self.peak_density} is below --start-density {self.start_density}: "
                              "the schedule densifies from the start to the peak")

    # ---- derived settings -------------------------------------------------------------------
    def final_step(self) -> int:
        """The step at which pattern updates stop (`end_step`, default 0.75 x steps)."""
        return self.end_step if self.end_step is not None else max(1, math.floor(0.75 * self.steps))

    def grow_steps(self) -> tuple[int, int, int]:
        """grow-prune's (grow_end, prune_end, end_step)."""
        grow = self.grow_end if self.grow_end is not None else max(1, round(0.2 * self.steps))
        prune = self.prune_end if self.prune_end is not None else max(grow + 1, round(0.5 * self.steps))
        return grow, prune, self.final_step()

    def sparsity_rule(self) -> dict:
        """The keywords of `sparsenet.dst.layer_densities`: ε, or an overall density and its allocation."""
        if self.density is not None:
            return {"density": self.density, "allocation": self.allocation}
        return {"epsilon": self.epsilon if self.epsilon is not None else EPSILON}

    def checkpoint_steps(self) -> int:
        return self.checkpoint_every if self.checkpoint_every is not None else 10 * self.delta_t

    def eval_steps(self) -> int:
        return self.eval_every if self.eval_every is not None else max(1, self.steps // 10)


__all__ = ["DstConfig", "EPSILON", "EXECUTIONS"]
