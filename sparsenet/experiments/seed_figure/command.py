"""`sparsenet reproduce seed-figure`: the reproduction's registration (its flags come from SeedFigureConfig)."""
from __future__ import annotations

from ..registry import REPRODUCTIONS


def reproduction():
    """(config class, run, run directory of a config), imported only when the reproduction is used."""
    from .config import SeedFigureConfig
    from .run import resolve_run_dir, run_seed_figure

    return SeedFigureConfig, run_seed_figure, resolve_run_dir


REPRODUCTIONS.register("seed-figure", (reproduction, "the seed's accuracy and speed vs hidden width figures"))
