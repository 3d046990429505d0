"""`sparsenet reproduce low-rank`: the config (config.py), the nets and the rank of a fraction
(nets.py), the resumable run over dictionaries x fractions x seeds (run.py), the registration
(command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_low_rank", "resolve_run_dir"],
                                               "config": ["LowRankConfig"]})
