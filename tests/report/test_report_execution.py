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


def test_lottery_execution_summary_counts_choices_over_seeds():
    from sparsenet.report.execution import run_execution_lines

    def row(seed, level, kind, choices, secs):
        return {"seed": seed, "level": level, "kind": kind, "density": 0.5 ** level, "train_seconds": secs,
                "execution": [{"layer": f"layers.{i}.weight", "choice": c} for i, c in enumerate(choices)]}

    rows = [row(0, 0, "ticket", ["masked", "masked"], 1.0), row(1, 0, "ticket", ["masked", "masked"], 3.0),
            row(0, 3, "ticket", ["csr", "masked"], 0.5), row(1, 3, "ticket", ["csr", "csr"], 0.7),
            row(2, 3, "ticket", ["csr", "masked"], 0.6), {"seed": 0, "level": 3, "kind": "old"}]
    lines = run_execution_lines(rows)
    assert lines[0] == "## Execution"
    body = [l for l in lines if l.startswith("| 0") or l.startswith("| 3")]
    assert body == ["| 0 | 100 | ticket | layers.0 masked, layers.1 masked | 2 |",
                    "| 3 | 12.5 | ticket | layers.0 csr, layers.1 masked 2/3 | 0.6 |"]
    assert run_execution_lines([{"seed": 0, "level": 1, "kind": "ticket"}]) == []
