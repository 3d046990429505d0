"""`sparsenet bench`: the config (config.py), the run (run.py), the command (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_bench"], "config": ["BenchConfig"]})
