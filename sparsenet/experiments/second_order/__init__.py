"""`sparsenet reproduce second-order`: the config (config.py), the parts (run.py), the toy problems (toy.py),
the nets (nets.py), the reproduction's registration (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_second_order", "resolve_run_dir"], "config": ["SecondOrderConfig"]})
