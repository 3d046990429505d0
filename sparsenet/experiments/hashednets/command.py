"""`sparsenet reproduce hashednets`: the reproduction's registration (its flags come from HashedNetsConfig)."""
from __future__ import annotations

from ..registry import REPRODUCTIONS


def reproduction():
    """(config class, run, run directory of a config), imported only when the reproduction is used."""
    from .config import HashedNetsConfig
    from .run import resolve_run_dir, run_hashednets

    return HashedNetsConfig, run_hashednets, resolve_run_dir


REPRODUCTIONS.register("hashednets", (reproduction, "HashedNets' equal-storage comparison: hashed vs narrower "
                                      "dense vs random sparse MLPs at compression 1/8 ... 1/64"))
