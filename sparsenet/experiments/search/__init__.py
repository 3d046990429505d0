"""`sparsenet search`: novelty-oriented search over sparse controllers (see `run`)."""
from ..registry import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"config": ["SearchConfig"], "run": ["run_search_experiment"]})
