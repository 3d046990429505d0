"""Every public name imports and every docstring example runs."""
import doctest
import importlib

import pytest



@pytest.mark.parametrize("module", ["", ".space", ".sfn", ".subspace"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"sparsenet.optim{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
