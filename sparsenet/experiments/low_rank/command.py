"""`sparsenet reproduce low-rank`: the reproduction's registration (its flags come from LowRankConfig)."""
from __future__ import annotations

from ..registry import REPRODUCTIONS


def reproduction():
    """(config class, run, run directory of a config), imported only when the reproduction is used."""
    from .config import LowRankConfig
    from .run import resolve_run_dir, run_low_rank

    return LowRankConfig, run_low_rank, resolve_run_dir


REPRODUCTIONS.register("low-rank", (reproduction, "Denil et al.'s parameter prediction: accuracy vs the fraction "
                                    "of the first layer's weights predicted by a fixed dictionary (se, gaussian, dct, "
                                    "pca) against dense"))
