"""Seed-figure table, the three claims (PASS / FAIL / n/a) and the markdown rows."""
import math

import pytest

from sparsenet.errors import SparsenetError
from sparsenet.report.claims import check_claims
from sparsenet.report.markdown import claim_line, reference_rows, results_rows
from sparsenet.report.seedtable import percent_scale, reference_table, rows_table


def row(width, variant, acc, secs, live=None):
    return {"width": width, "variant": variant, "test_accuracy": acc, "train_seconds": secs,
            "test_loss": 0.5, "live_weights": live if live is not None else
            (width * 794 if variant == "dense" else 5000),
            "hidden_live_weights": 10 * width, "live_hidden_units": width,
            "phase_seconds": {}, "run_dir": f"runs/w{width}-{variant}"}


def passing_rows():
    # width: (dense acc, sparse acc, dense s, sparse s)
    spec = {2: (0.80, 0.75, 1.0, 1.0), 32: (0.90, 0.89, 20.0, 1.5), 64: (0.95, 0.94, 50.0, 2.0)}
    rows = []
    for w, (da, sa, ds, ss) in spec.items():
        rows += [row(w, "dense", da, ds), row(w, "sparse", sa, ss)]
    return rows


def replace(rows, width, variant, **changes):
    out = []
    for r in rows:
        if r["width"] == width and r["variant"] == variant:
            r = {**r, **changes}
        out.append(r)
    return out


def statuses(rows):
    return [c.status for c in check_claims(rows_table(rows))]


def test_all_claims_pass_with_numbers():
    claims = check_claims(rows_table(passing_rows()))
    assert [c.status for c in claims] == ["PASS", "PASS", "PASS"]
    a, b, c = claims
    # Width 2 is below 32, so its 5-point gap does not count.
    assert "width 32: 89.00 vs 90.00 (Δ -1.00)" in a.detail and "width 2" not in a.detail
    assert b.detail == "width 64: dense 50.00 s / sparse 2.00 s = 25.0×"
    assert c.detail == "width 64: 2.00 s vs width 2: 1.00 s = 2.00×"  # 2.00 is on the boundary
    assert claim_line(b).startswith("- **(b) PASS**: dense/sparse training-time ratio ≥ 20")


def test_claim_a_fails_when_sparse_loses_more_than_two_points():
    rows = replace(passing_rows(), 64, "sparse", test_accuracy=0.929)
    assert statuses(rows) == ["FAIL", "PASS", "PASS"]
    assert "width 64: 92.90 vs 95.00 (Δ -2.10, outside)" in check_claims(rows_table(rows))[0].detail


def test_claim_a_is_two_sided():
    rows = replace(passing_rows(), 32, "sparse", test_accuracy=0.925)
    assert statuses(rows)[0] == "FAIL"


def test_claim_b_fails_below_twenty_fold():
    rows = replace(passing_rows(), 64, "dense", train_seconds=39.0)
    assert statuses(rows) == ["PASS", "FAIL", "PASS"]
    assert "= 19.5×" in check_claims(rows_table(rows))[1].detail


def test_claim_c_fails_when_sparse_time_grows():
    rows = replace(passing_rows(), 64, "sparse", train_seconds=2.5)
    rows = replace(rows, 64, "dense", train_seconds=60.0)  # keep (b) passing: 24×
    assert statuses(rows) == ["PASS", "PASS", "FAIL"]
    assert "2.50×" in check_claims(rows_table(rows))[2].detail


def test_missing_widths_give_na():
    no_sparse_64 = [r for r in passing_rows() if not (r["width"] == 64 and r["variant"] == "sparse")]
    claims = check_claims(rows_table(no_sparse_64))
    assert [c.status for c in claims] == ["n/a", "n/a", "n/a"]
    assert "no sparse" in claims[0].detail and "width 64" in claims[1].detail

    only_small = [r for r in passing_rows() if r["width"] < 32]
    # No width >= 32 and a single width; (b) is still judged at the largest width run.
    assert statuses(only_small) == ["n/a", "FAIL", "n/a"]
    assert statuses([]) == ["n/a", "n/a", "n/a"]


def test_a_failure_wins_over_a_missing_width():
    rows = [r for r in passing_rows() if not (r["width"] == 32 and r["variant"] == "dense")]
    assert statuses(rows)[0] == "n/a"
    rows = replace(rows, 64, "sparse", test_accuracy=0.90)
    assert statuses(rows)[0] == "FAIL"


def test_diverged_run_counts_as_missing():
    rows = replace(passing_rows(), 64, "sparse", test_accuracy=float("nan"), train_seconds=None)
    assert statuses(rows) == ["n/a", "n/a", "n/a"]


def test_accuracies_in_percent_are_not_rescaled():
    rows = [{**r, "test_accuracy": 100 * r["test_accuracy"]} for r in passing_rows()]
    assert rows_table(rows)[32]["sparse"].accuracy == pytest.approx(89.0)
    assert statuses(rows) == ["PASS", "PASS", "PASS"]
    assert percent_scale([0.5, 1.0]) == 100 and percent_scale([50.0, 0.5]) == 1


def test_duplicate_rows_are_averaged():
    rows = passing_rows() + [row(64, "sparse", 0.92, 4.0)]
    cell = rows_table(rows)[64]["sparse"]
    assert cell.count == 2
    assert cell.accuracy == pytest.approx(93.0) and cell.seconds == pytest.approx(3.0)


def test_malformed_row_is_a_user_error_naming_the_source():
    with pytest.raises(SparsenetError, match=r"/x/results.json: row 1 needs an integer"):
        rows_table([row(2, "dense", 0.5, 1.0), {"variant": "sparse"}], source="/x/results.json")
    with pytest.raises(SparsenetError, match="must be a list"):
        rows_table(None)


def test_results_rows_exact_text():
    rows = results_rows(rows_table(passing_rows()))
    assert rows[2] == ["64", "95.00", "94.00", "-1.00", "50816 / 5000", "50.00", "2.00", "25.0×"]
    assert rows[0][3] == "-5.00"
    only_dense = results_rows(rows_table([row(8, "dense", 0.7, 3.0)]))
    assert only_dense[0] == ["8", "70.00", "—", "—", "6352 / —", "3.00", "—", "—"]


def test_reference_table():
    ref = {"dataset": "mnist", "widths": [2, 4], "dense_accuracy": [0.9, 0.95],
           "sparse_accuracy": [0.88, 0.94], "dense_seconds": [2.0, 8.0],
           "sparse_seconds": [1.0, 1.0], "source": "blog"}
    table = reference_table(ref)
    assert reference_rows(table) == [["2", "90.00", "88.00", "2.00", "1.00", "2.0×"],
                                     ["4", "95.00", "94.00", "8.00", "1.00", "8.0×"]]
    # A list whose length does not match widths is dropped, not misaligned.
    broken = {**ref, "sparse_seconds": [1.0]}
    assert math.isnan(reference_table(broken)[4]["sparse"].seconds)
    assert reference_table(None) == {} and reference_table({"widths": "x"}) == {}
