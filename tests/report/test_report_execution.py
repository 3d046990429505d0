"""The Execution section: which layers trained on CSR and why, and the retraining time."""
import doctest

import sparsenet.report.execution as execution
from sparsenet.report.execution import execution_lines
from sparsenet.report.prune_report import prune_markdown


def test_docstring_example():
    assert doctest.testmod(execution).attempted > 0 and doctest.testmod(execution).failed == 0


def test_no_recorded_choices_means_no_section():
    assert execution_lines([]) == []
    assert execution_lines([{"phase": "p", "layers": []}]) == []


def test_prune_report_lists_each_layer_choice_and_the_retraining_time():
    point = {"id": "magnitude_s0.9000", "criterion": "magnitude", "sparsity": 0.9, "accuracy": 0.8, "live": 10,
             "total": 100, "retrain_seconds": 1.5,
             "execution": [{"phase": "magnitude_s0.9000:0", "layers": [
                 {"layer": "layers.0.weight", "shape": [8, 4], "density": 0.1, "choice": "csr", "reason": "r0"},
                 {"layer": "layers.1.weight", "shape": [2, 8], "density": 0.1, "choice": "masked", "reason": "r1"}]}]}
    md = prune_markdown("x", {"points": [point]}, [], [])
    section = md[md.index("## Execution"):]
    assert "magnitude_s0.9000 1.5 s" in section
    assert "| magnitude_s0.9000:0 | layers.0.weight | 8×4 | 10% | csr | r0 |" in section
    assert "| magnitude_s0.9000:0 | layers.1.weight | 2×8 | 10% | masked | r1 |" in section
