"""LowRankConfig: the typed definition behind `sparsenet reproduce low-rank`."""
from __future__ import annotations

from dataclasses import dataclass

from ...config.checks import check_no_repeats, check_seed_list
from ...config import non_negative, option, positive
from ...errors import ConfigError
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.runtime import THREADS_HELP, check_threads
from .. import choices

DICTIONARY_CHOICES = ("se", "gaussian", "dct", "pca")  # "svd" needs a trained layer, not a fixed dictionary
FULL_FRACTIONS = (0.5, 0.75, 0.9, 0.95)
# --quick (the test suite's size): each of these replaces a setting left at its default
QUICK = {"fractions": (0.5, 0.9), "epochs": 1, "train_samples": 2000, "test_samples": 1000}


def _fractions_check(values) -> str | None:
    bad = [v for v in values if not 0 < v < 1]
    if bad or not values:
        shown = ", ".join(f"{v:g}" for v in bad) or "(none)"
        return (f"fraction {shown} is not in (0, 1): it is the share of the first layer's weights predicted "
                "(1 - rank / in_features), e.g. --fractions 0.5,0.75,0.9")
    return None


@dataclass(frozen=True)
class LowRankConfig:
    dataset: str = option("fashion-mnist", help="dataset (the paper: MNIST, CIFAR-10, STL-10)", choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    dictionaries: tuple[str, ...] = option(DICTIONARY_CHOICES, help="fixed dictionaries U of the first layer "
                                           "W^T = U V", choices=DICTIONARY_CHOICES)
    fractions: tuple[float, ...] = option(FULL_FRACTIONS, help="fractions of the first layer's weights predicted; "
                                          "rank = max(1, round((1 - fraction) * in_features))", check=_fractions_check)
    hidden: int = option(300, help="hidden width of in-H-classes (first layer LowRankLinear, second nn.Linear)",
                         check=positive)
    pca_samples: int = option(2000, help="training images whose covariance gives the pca dictionary", check=positive)
    epochs: int = option(3, help="training epochs (the same optimizer steps for every net)", check=positive)
    batch_size: int = option(128, help="minibatch size", check=positive)
    lr: float = option(0.05, help="SGD learning rate (the same for every net)", check=positive)
    momentum: float = option(0.9, help="SGD heavy-ball momentum", check=non_negative)
    train_samples: int = option(0, help="use only the first N training samples (0 = all)", check=non_negative)
    test_samples: int = option(0, help="use only the first N test samples (0 = all)", check=non_negative)
    seeds: tuple[int, ...] = option((0, 1, 2), help="seeds; each (dictionary, fraction, seed) and each dense "
                                    "seed is one trial, reported as mean ± std")
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    quick: bool = option(False, help="test-suite size (seconds): 2,000 training and 1,000 test samples, 1 epoch, "
                         "the first seed, fractions 0.5 and 0.9 (each unless given)")
    out: str = option("runs", help=OUT_HELP.replace("NAME-<hash>", "low-rank, low-rank-quick, or with a hash of other settings"))
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP + " (finished trials are reused)")

    def validate(self) -> None:
        check_seed_list(self.seeds)
        check_no_repeats(self.fractions, "--fractions", "fraction")
        if not self.dictionaries or len(set(self.dictionaries)) != len(self.dictionaries):
            raise ConfigError(f"--dictionaries {','.join(self.dictionaries)} must be non-empty without repeats, "
                              f"e.g. --dictionaries {','.join(DICTIONARY_CHOICES)}")
