"""`sparsenet sweep`: many runs of one experiment over a grid of its config keys, on this machine
(a process pool, the default) or on a Ray cluster; every trial is an ordinary run directory.

Modules: `config` (SweepConfig, the flags and the ``[sweep]`` table), `spec` (reading the sweep file
and expanding it into trials), `trial` (one trial in its own process), `journal` (the attempts log),
`local` and `ray_executor` (the executors), `run` (`run_sweep`), `command` (the CLI).
"""
from __future__ import annotations

from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "config": ["SweepConfig"],
    "spec": ["SweepSpec", "Trial", "load_sweep"],
    "run": ["run_sweep"],
})
