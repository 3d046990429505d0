"""The kernel benchmark scripts run end to end on a tiny layer (their numbers are not asserted:
benchmarks are scripts, not timed tests) and refuse bad arguments with exit 2."""
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _script(name, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # as `python benchmarks/<name>.py` sees its folder
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_narrow_dx_prints_one_row_per_case(monkeypatch, capsys):
    main = _script("narrow_dx", monkeypatch).main
    assert main(["--size", "96", "--batches", "3,16", "--densities", "0.2", "--reps", "1", "--threads", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 3 ") or line.startswith("| 16 ")]
    assert len(rows) == 2 and all(len(r.split("|")) == 9 for r in rows)


@pytest.mark.parametrize("bad", ["1", "17", "2,32"])
def test_narrow_dx_refuses_batches_outside_2_to_16(bad, monkeypatch, capsys):
    main = _script("narrow_dx", monkeypatch).main
    assert main(["--batches", bad]) == 2
    err = capsys.readouterr().err
    assert bad.replace(",", ", ") in err and "2..16" in err and "\n" == err[-1] and err.count("\n") == 1


def test_panel_products_runs(monkeypatch, capsys):
    main = _script("panel_products", monkeypatch).main
    assert main(["--size", "96", "--batches", "64", "--densities", "0.2", "--reps", "1", "--threads", "1"]) == 0
    assert "| 64 | 0.2 |" in capsys.readouterr().out
