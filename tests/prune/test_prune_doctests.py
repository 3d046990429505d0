"""The docstring examples of the pruning modules run."""
import doctest
import importlib

import pytest

MODULES = ["sparsenet.criteria", "sparsenet.allocation.select", "sparsenet.prune.api"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
