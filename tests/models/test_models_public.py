import doctest
import importlib

import pytest



@pytest.mark.parametrize("module", ["spec", "activations", "mlp", "builders"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"sparsenet.models.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
