"""HashedNetsConfig: the typed definition behind `sparsenet reproduce hashednets`."""
from __future__ import annotations

from dataclasses import dataclass

from ...config.checks import check_no_repeats, check_seed_list
from ...config import non_negative, option, positive
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.runtime import THREADS_HELP, check_threads
from .. import choices

FULL_COMPRESSIONS = (1 / 8, 1 / 16, 1 / 32, 1 / 64)
CONTENDERS = ("hashed", "dense", "sparse")
# --quick (the test suite's size): each of these replaces a setting left at its default
QUICK = {"compressions": (1 / 8, 1 / 64), "epochs": 1, "train_samples": 2000, "test_samples": 1000}


def _compressions_check(values) -> str | None:
    bad = [v for v in values if not 0 < v <= 1]
    if bad or not values:
        shown = ", ".join(f"{v:g}" for v in bad) or "(none)"
        return (f"compression {shown} is not in (0, 1]: it is the fraction of the layer's weights stored, "
                "e.g. --compressions 0.125,0.015625 for 1/8 and 1/64")
    return None


@dataclass(frozen=True)
class HashedNetsConfig:
    dataset: str = option("fashion-mnist", help="dataset (the paper: MNIST and variants)", choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    compressions: tuple[float, ...] = option(FULL_COMPRESSIONS, help="compressions c: each hashed layer stores "
                                             "K = round(c * out * in) weights", check=_compressions_check)
    hidden: int = option(1000, help="hidden width of the hashed and random sparse nets in-H-classes (the paper: 1000)",
                         check=positive)
    epochs: int = option(10, help="training epochs (the same optimizer steps for every contender)", check=positive)
    batch_size: int = option(128, help="minibatch size", check=positive)
    lr: float = option(0.05, help="SGD learning rate (the same for every contender)", check=positive)
    momentum: float = option(0.9, help="SGD heavy-ball momentum", check=non_negative)
    train_samples: int = option(0, help="use only the first N training samples (0 = all)", check=non_negative)
    test_samples: int = option(0, help="use only the first N test samples (0 = all)", check=non_negative)
    seeds: tuple[int, ...] = option((0, 1, 2), help="seeds; each (compression, contender, seed) is one trial, "
                                    "reported as mean ± std")
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    quick: bool = option(False, help="test-suite size (seconds): 2,000 training and 1,000 test samples, 1 epoch, "
                         "the first seed, compressions 1/8 and 1/64 (each unless given)")
    out: str = option("runs", help=OUT_HELP.replace("NAME-<hash>", "hashednets, hashednets-quick, or with a hash of other settings"))
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP + " (finished trials are reused)")

    def validate(self) -> None:
        check_seed_list(self.seeds)
        check_no_repeats(self.compressions, "--compressions", "compression")
