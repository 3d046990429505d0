"""`sparsenet reproduce hashednets`: the config (config.py), the three contenders at equal storage
(nets.py), the resumable run over compressions x contenders x seeds (run.py), the registration
(command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_hashednets", "resolve_run_dir"],
                                               "config": ["HashedNetsConfig"]})
