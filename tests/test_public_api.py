"""Every package's public names: listed once, importable by name, documented, and complete.

"Complete" means a function or class that a package's __init__ imports from one of its own
submodules, without an underscore, is in its __all__ (so a new export cannot be forgotten).
"""
import importlib
import inspect

import pytest

PACKAGES = ["sparsenet", "sparsenet.allocation", "sparsenet.bench", "sparsenet.criteria", "sparsenet.data",
            "sparsenet.lottery", "sparsenet.masks", "sparsenet.models", "sparsenet.nn", "sparsenet.optim",
            "sparsenet.prune", "sparsenet.report", "sparsenet.schedules", "sparsenet.search", "sparsenet.train"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_documented_importable_names_once(name):
    pkg = importlib.import_module(name)
    public = list(pkg.__all__)
    assert public, f"{name}.__all__ is empty"
    assert len(public) == len(set(public)), f"{name}.__all__ repeats a name"
    ns: dict = {}
    exec(f"from {name} import {', '.join(public)}", ns)  # the form a user writes
    for attr in public:
        obj = ns[attr]
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__module__.startswith("sparsenet"), f"{name}.{attr} comes from {obj.__module__}"
            assert (obj.__doc__ or "").strip(), f"{name}.{attr} has no docstring"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_function_and_class_is_in_all(name):
    pkg = importlib.import_module(name)
    missing = [attr for attr, obj in vars(pkg).items()
               if not attr.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
               and obj.__module__.startswith(name + ".") and attr not in pkg.__all__]
    assert not missing, f"{name} imports {missing} but does not list them in __all__"


def test_public_api_check_can_fail(monkeypatch):
    # the completeness check above finds an export left out of __all__
    import sparsenet.masks as masks

    def extra():
        """doc"""

    extra.__module__ = "sparsenet.masks.core"
    monkeypatch.setattr(masks, "forgotten_export", extra, raising=False)
    with pytest.raises(AssertionError, match="forgotten_export"):
        test_every_exported_function_and_class_is_in_all("sparsenet.masks")
