"""docs/extending.md is executable: its python blocks (the worked criterion example) run in order
in a temporary directory, and the example's registration is undone afterwards."""
import inspect
import re
from pathlib import Path

from sparsenet.criteria import CRITERIA
from sparsenet.masks.layers import LAYERS
from tests.conformance import test_layer_protocol as protocol

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def test_extending_doc_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 3, "extending.md lost its worked examples"
    before, kinds = set(CRITERIA.names("all")), set(LAYERS.names())
    try:
        for code in blocks:
            exec(compile(code, str(DOC), "exec"), {})
        assert set(CRITERIA.names("all")) - before == {"row-relative"}
        assert set(LAYERS.names()) - kinds == {"nobias_linear"}
        # registered, the new kind passes the layer protocol's conformance suite
        for name, fn in vars(protocol).items():
            if name.startswith("test_") and name != "test_registry_lists_the_three_kinds":
                params = inspect.signature(fn).parameters
                if "opt_name" in params:
                    for opt in ("momentum", "adam"):
                        fn("nobias_linear", opt)
                else:
                    fn("nobias_linear")
    finally:
        for name in set(CRITERIA.names("all")) - before:
            CRITERIA._items.pop(name)
        for name in set(LAYERS.names()) - kinds:
            LAYERS._items.pop(name)
