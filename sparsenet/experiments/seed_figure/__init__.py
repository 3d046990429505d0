"""`sparsenet reproduce seed-figure`: the config and run (run.py), the reproduction's registration (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["SeedFigureConfig", "run_seed_figure", "resolve_run_dir"]})
