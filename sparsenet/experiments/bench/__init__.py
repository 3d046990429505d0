"""`sparsenet bench`: the config and run (run.py), the command (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["BenchConfig", "run_bench"]})
