"""docs/pruning.md is executable: its Python examples run."""
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "pruning.md"


def test_pruning_doc_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write files (net.safetensors): never into the checkout
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})
