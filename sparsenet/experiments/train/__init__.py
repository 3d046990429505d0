"""`sparsenet train`: the config (config.py), the run (run.py: dense burn-in, pruning via
pruning.py, sparse training), the command (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_train", "resolve_run_dir"], "config": ["TrainConfig"]})
