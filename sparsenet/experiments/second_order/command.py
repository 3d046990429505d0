"""`sparsenet reproduce second-order`: the reproduction's registration (its flags come from SecondOrderConfig)."""
from __future__ import annotations

from ..registry import REPRODUCTIONS


def reproduction():
    """(config class, run, run directory of a config), imported only when the reproduction is used."""
    from .config import SecondOrderConfig
    from .run import resolve_run_dir, run_second_order

    return SecondOrderConfig, run_second_order, resolve_run_dir


REPRODUCTIONS.register("second-order", (reproduction, "saddle-free Newton (exact and Krylov) and Hessian-free vs "
                                        "SGD/Adam: a saddle, Rosenbrock, the seed's slow net, the pruned subspace"))
