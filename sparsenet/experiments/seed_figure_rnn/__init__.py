"""`sparsenet reproduce seed-figure-rnn`: the config (config.py), the resumable run over widths x
{dense, sparse} (run.py), the registration (command.py)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"run": ["run_seed_figure_rnn", "resolve_run_dir"],
                                               "config": ["SeedFigureRNNConfig"]})
