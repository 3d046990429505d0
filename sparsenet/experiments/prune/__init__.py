"""`sparsenet prune`: the config (config.py), the run (run.py: criteria x sparsities, optional
retraining), `--init-from` loading (init_from.py), the command (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_prune", "resolve_run_dir"], "config": ["PruneConfig"]})
