"""`sparsenet reproduce second-order`: the config and parts (run.py), the toy problems (toy.py),
the nets (nets.py), the reproduction's registration (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["SecondOrderConfig", "run_second_order", "resolve_run_dir"]})
