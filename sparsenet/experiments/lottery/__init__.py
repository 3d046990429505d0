"""`sparsenet lottery`: the config (config.py), the resumable levels (run.py), early-bird /
edge-popup / strong tickets (extras.py), checked artifacts (artifacts.py), the command (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_lottery", "resolve_run_dir"],
                                               "config": ["LotteryConfig"]})
