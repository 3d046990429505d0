import doctest
import importlib

import pytest



@pytest.mark.parametrize("module", ["core", "select", "shrink", "enforce"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"sparsenet.masks.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
