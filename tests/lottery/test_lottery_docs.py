"""docs/lottery.md's Python block runs, and the lottery modules' docstring examples hold."""
import doctest
import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "lottery.md"
MODULES = ["sparsenet.lottery.imp", "sparsenet.lottery.mask_criteria", "sparsenet.lottery.double_descent",
           "sparsenet.lottery.controls", "sparsenet.lottery.early_bird", "sparsenet.lottery.edge_popup",
           "sparsenet.lottery.strong", "sparsenet.lottery.supermask", "sparsenet.lottery.training"]


def test_doc_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
