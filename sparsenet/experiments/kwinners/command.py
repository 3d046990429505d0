"""`sparsenet reproduce kwinners`: the reproduction's registration (its flags come from KWinnersConfig)."""
from __future__ import annotations

from ..registry import REPRODUCTIONS


def reproduction():
    """(config class, run, run directory of a config), imported only when the reproduction is used."""
    from .config import KWinnersConfig
    from .run import resolve_run_dir, run_kwinners

    return KWinnersConfig, run_kwinners, resolve_run_dir


REPRODUCTIONS.register("kwinners", (reproduction, "Ahmad & Scheinkman's robustness claim: dense ReLU MLP vs sparse "
                                    "weights + k-winners-take-all MLP, test accuracy clean and under input noise"))
