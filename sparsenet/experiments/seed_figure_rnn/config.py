"""SeedFigureRNNConfig: the typed definition behind `sparsenet reproduce seed-figure-rnn`."""
from __future__ import annotations

from dataclasses import dataclass

from ...config.checks import check_no_repeats
from ...config import all_positive, non_negative, option, positive
from ...errors import ConfigError
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.runtime import SEED_HELP, THREADS_HELP, check_threads
from .. import choices

FULL_WIDTHS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
# The budget is the size of a dense net of this width: every wider sparse net keeps as many live
# weights as the dense RNN of width 128 (W_ih: inputs x 128, W_hh: 128 x 128; 19,968 for image rows).
BUDGET_WIDTH = 128
# --quick: each replaces a setting left at its default (the dense 4096-wide baseline is the cost)
QUICK = {"widths": (16, 64, 256, 1024, 4096), "samples": 3200, "n_test": 2000}
QUICK_OUT_SUFFIX = "-quick"
VARIANTS = ("dense", "sparse")


def _budget_check(value) -> str | None:
    if value is None or value > 0:
        return None
    return f"must be a positive number of live weights (or leave it out: the dense width-{BUDGET_WIDTH} size)"


@dataclass(frozen=True)
class SeedFigureRNNConfig:
    dataset: str = option("fashion-mnist", help="dataset, read as sequences: images row by row (fashion-mnist, mnist: "
                          "28 steps of 28 values; cifar10: 32 steps of 96), mnist1d: 40 steps of 1 value",
                          choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    widths: tuple[int, ...] = option(FULL_WIDTHS, help="hidden widths H of the Elman RNN in-H-classes", check=all_positive)
    input_budget: int | None = option(None, help=f"live weights kept in W_ih after the burn-in (default: inputs x "
                                      f"{BUDGET_WIDTH}, a dense width-{BUDGET_WIDTH} W_ih)", check=_budget_check)
    recurrent_budget: int | None = option(None, help=f"live weights kept in W_hh after the burn-in (default: "
                                          f"{BUDGET_WIDTH * BUDGET_WIDTH:,}, a dense width-{BUDGET_WIDTH} W_hh)",
                                          check=_budget_check)
    burnin_samples: int = option(320, help="dense training samples before pruning (the seed's short burn-in)",
                                 check=non_negative)
    samples: int = option(30000, help="training samples after pruning (the dense variant: after the same burn-in)",
                          check=positive)
    batch_size: int = option(32, help="minibatch size", check=positive)
    optimizer: str = option("adam", help="optimizer (its state restarts after the burn-in, for both variants)",
                            choices=choices.optimizers)
    lr: float = option(0.001, help="learning rate", check=positive)
    lr_fan_in: int = option(128, help="learning rate of the recurrent matrix: lr x min(1, N / W_hh's mean fan-in, its live "
                            "weights per unit), the same rule for both variants (0 = one lr for all). "
                            "An Adam step moves a dense W_hh by about lr x H in spectral norm, so one lr that trains "
                            "H = 128 makes H = 4096 diverge; the sparse matrices' fan-in is small and keeps the full lr",
                            check=non_negative)
    momentum: float = option(0.0, help="SGD heavy-ball momentum (ignored by adam)", check=non_negative)
    clip: float = option(1.0, help="gradient-norm clipping after each backward (0 = off)", check=non_negative)
    n_test: int | None = option(None, help="test examples used (default: the full test split; --quick: 2,000)",
                                check=lambda v: None if v is None else positive(v))
    quick: bool = option(False, help=f"reduced run in under 5 minutes: widths {','.join(map(str, QUICK['widths']))}, "
                         f"{QUICK['samples']:,} samples after pruning, {QUICK['n_test']:,} test examples (each unless "
                         f"given), output in OUT/seed-figure-rnn{QUICK_OUT_SUFFIX}")
    seed: int = option(0, help=SEED_HELP)
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    out: str = option("runs", help=OUT_HELP.replace("NAME-<hash>", "seed-figure-rnn, seed-figure-rnn-quick, or with "
                                                     "a hash of other settings"))
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP + " (finished (width, variant) runs are reused)")
    progress: bool = option(True, help="show progress bars on a terminal")

    def validate(self) -> None:
        check_no_repeats(self.widths, "--widths", "width")
        if self.samples < self.batch_size:
            raise ConfigError(f"--samples {self.samples} is less than one batch (--batch-size {self.batch_size}); "
                              "give at least one batch")
