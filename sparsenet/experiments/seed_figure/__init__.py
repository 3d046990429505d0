"""`sparsenet reproduce seed-figure`: the config (config.py), the run (run.py), the reproduction's registration (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_seed_figure", "resolve_run_dir"], "config": ["SeedFigureConfig"]})
