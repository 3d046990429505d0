"""`sparsenet reproduce kwinners`: the config (config.py), the dense and sparse k-WTA nets (nets.py),
the noisy test inputs and the noise score (noise.py), the resumable run over models x seeds (run.py),
the registration (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_kwinners", "resolve_run_dir"],
                                               "config": ["KWinnersConfig"]})
