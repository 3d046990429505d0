"""`sparsenet reproduce seed-figure-rnn`: the reproduction's registration (its flags come from SeedFigureRNNConfig)."""
from __future__ import annotations

from ..registry import REPRODUCTIONS


def reproduction():
    """(config class, run, run directory of a config), imported only when the reproduction is used."""
    from .config import SeedFigureRNNConfig
    from .run import resolve_run_dir, run_seed_figure_rnn

    return SeedFigureRNNConfig, run_seed_figure_rnn, resolve_run_dir


REPRODUCTIONS.register("seed-figure-rnn", (reproduction, "the seed figure for Elman RNNs: dense vs magnitude-pruned "
                                           "sparse, accuracy and training time vs hidden width"))
