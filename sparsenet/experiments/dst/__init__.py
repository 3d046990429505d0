"""`sparsenet dst`: the config (config.py), the layer plan and model (plan.py), one resumable trial
(trial.py), the run over methods x seeds (run.py), the command (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_dst", "resolve_run_dir"], "config": ["DstConfig"]})
