"""docs/lottery.md's Python block runs, and the lottery modules' docstring examples hold."""
import doctest
import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "lottery.md"
PKG = Path(__file__).resolve().parents[2] / "sparsenet" / "lottery"
# every lottery module whose docstrings hold examples (found from the source, so none is forgotten)
MODULES = sorted(f"sparsenet.lottery.{p.stem}" for p in PKG.glob("*.py") if ">>> " in p.read_text())


def test_doc_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write files: never into the checkout
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


def test_modules_with_examples_are_found():
    assert {"sparsenet.lottery.imp", "sparsenet.lottery.mask_criteria", "sparsenet.lottery.double_descent"} <= set(MODULES)
