"""docs/extending.md is executable: its python blocks (the worked criterion example) run in order
in a temporary directory, and the example's registration is undone afterwards."""
import re
from pathlib import Path

from sparsenet.criteria import CRITERIA

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def test_extending_doc_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 2, "extending.md lost its worked example"
    before = set(CRITERIA.names("all"))
    try:
        for code in blocks:
            exec(compile(code, str(DOC), "exec"), {})
        assert set(CRITERIA.names("all")) - before == {"row-relative"}
    finally:
        for name in set(CRITERIA.names("all")) - before:
            CRITERIA._items.pop(name)
