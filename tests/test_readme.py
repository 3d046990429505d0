"""Docs are executable: the README's Python example runs, and every public name imports."""
import re
from pathlib import Path

import sparsenet

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README has no python example"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})


def test_public_names_import():
    for name in sparsenet.__all__:
        assert getattr(sparsenet, name) is not None
