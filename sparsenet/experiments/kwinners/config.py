"""KWinnersConfig: the typed definition behind `sparsenet reproduce kwinners`."""
from __future__ import annotations

from dataclasses import dataclass

from ...config.checks import check_no_repeats, check_seed_list
from ...config import non_negative, option, positive
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.runtime import THREADS_HELP, check_threads
from .. import choices

MODELS = ("dense", "sparse")
# --quick (the test suite's size): each of these replaces a setting left at its default
QUICK = {"hidden": 64, "epochs": 1, "train_samples": 2000, "test_samples": 500}


def _noise_levels_check(values) -> str | None:
    bad = [v for v in values if not 0 < v]
    if bad or not values:
        shown = ", ".join(f"{v:g}" for v in bad) or "(none)"
        return (f"noise level {shown} must be > 0: it is the noise std as a fraction of the input range "
                "(the clean test set is always evaluated), e.g. --noise-levels 0.1,0.2,0.3")
    return None


def _unit_open_left(name: str, what: str):
    def check(v) -> str | None:
        return None if 0 < v <= 1 else f"{name} {v!r} is outside (0, 1]: it is {what}"
    return check


@dataclass(frozen=True)
class KWinnersConfig:
    dataset: str = option("fashion-mnist", help="dataset (the paper: MNIST, CIFAR-10, Google Speech Commands)",
                          choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    hidden: int = option(1000, help="width H of both hidden layers of the in-H-H-classes nets", check=positive)
    density: float = option(0.3, help="weight density of the sparse net's two hidden layers (SparseLinear.random; "
                            "the output layer stays dense)", check=_unit_open_left("--density", "the fraction of "
                                                                                    "weights kept, e.g. 0.3"))
    percent_on: float = option(0.1, help="fraction of each hidden layer's units that win in the k-WTA layers",
                               check=_unit_open_left("--percent-on", "the fraction of units that win, e.g. 0.1"))
    boost_strength: float = option(1.5, help="k-WTA boost strength β at the start (the paper: 1.5)",
                                   check=non_negative)
    boost_strength_factor: float = option(0.85, help="β is multiplied by this after every epoch (the paper: 0.85)",
                                          check=_unit_open_left("--boost-strength-factor", "the per-epoch decay of β"))
    k_inference_factor: float = option(1.5, help="eval mode keeps round(k * factor) winners (the paper: 1.5)",
                                       check=positive)
    epochs: int = option(10, help="training epochs (the same optimizer steps for both models)", check=positive)
    batch_size: int = option(64, help="minibatch size", check=positive)
    lr: float = option(0.02, help="SGD learning rate (the same for both models)", check=positive)
    momentum: float = option(0.9, help="SGD heavy-ball momentum", check=non_negative)
    noise_levels: tuple[float, ...] = option((0.1, 0.2, 0.3, 0.4, 0.5), help="std of the additive Gaussian test "
                                             "noise as fractions of the input range (inputs clipped to the range)",
                                             check=_noise_levels_check)
    noise_seed: int = option(1234, help="seed of the test noise (the same noisy images for every model and seed)",
                             check=non_negative)
    train_samples: int = option(0, help="use only the first N training samples (0 = all)", check=non_negative)
    test_samples: int = option(0, help="use only the first N test samples (0 = all)", check=non_negative)
    seeds: tuple[int, ...] = option((0, 1, 2), help="seeds; each (model, seed) is one trial, reported as mean ± std")
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    quick: bool = option(False, help="test-suite size (seconds): hidden 64, 2,000 training and 500 test samples, "
                         "1 epoch, the first seed (each unless given)")
    out: str = option("runs", help=OUT_HELP.replace("NAME-<hash>", "kwinners, kwinners-quick, or with a hash of other settings"))
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP + " (finished trials are reused)")

    def validate(self) -> None:
        check_seed_list(self.seeds)
        check_no_repeats(self.noise_levels, "--noise-levels", "level")
