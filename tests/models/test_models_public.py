import doctest
import importlib

import pytest

import sparsenet.models as models


def test_every_public_name_imports():
    for name in models.__all__:
        assert getattr(models, name) is not None, name


@pytest.mark.parametrize("module", ["spec", "activations", "mlp", "builders"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"sparsenet.models.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
