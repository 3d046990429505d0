"""Seed-figure table, the claims (PASS / FAIL / n/a) of each sparse variant and the markdown rows."""
import math

import pytest

from sparsenet.errors import SparsenetError
from sparsenet.report.claims import check_all_claims, check_claims
from sparsenet.report.markdown import claim_line, phase_rows, reference_rows, results_rows
from sparsenet.report.seedtable import fmt_seconds, percent_scale, reference_table, rows_table


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
    """Statuses of the seed variant's claims (a), (b), (c); (d) has tests of its own."""
    return [c.status for c in check_claims(rows_table(rows))[:3]]


def test_all_claims_pass_with_numbers():
    claims = check_claims(rows_table(passing_rows()))
    # (d) needs per-phase seconds, which these rows lack.
    assert [c.status for c in claims] == ["PASS", "PASS", "PASS", "n/a"]
    a, b, c, d = claims
    assert [x.key for x in claims] == ["a", "b", "c", "d"] and d.detail.startswith("no sparse sparse-phase time")
    # Width 2 is below 32, so its 5-point gap does not count.
    assert "width 32: 89.00 vs 90.00 (Δ -1.00)" in a.detail and "width 2" not in a.detail
    assert b.detail == "width 64: dense 50.00 s / sparse 2.00 s = 25.0×"
    assert c.detail == "width 64: 2.00 s (5,000 live) vs width 2: 1.00 s (5,000 live) = 2.00×"  # on the boundary
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
    assert [c.status for c in claims] == ["n/a", "n/a", "n/a", "n/a"]
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


def phased(rows, seconds):
    """Rows with per-phase seconds: {(width, variant): (burn-in, prune, sparse)}."""
    out = []
    for r in rows:
        b, p, sp = seconds.get((r["width"], r["variant"]), (None, None, None))
        if b is not None:
            r = {**r, "phase_seconds": {"burnin": b, "prune": p, "sparse": sp}}
        out.append(r)
    return out


def two_variant_rows():
    """Seed variant ("sparse") and fixed total at widths 16 and 256 with per-phase seconds."""
    rows = [row(16, "dense", 0.82, 7.0), row(256, "dense", 0.83, 19.0),
            row(16, "sparse", 0.81, 0.19, live=3296), row(256, "sparse", 0.81, 0.24, live=5696),
            row(16, "fixed-total", 0.81, 0.18, live=3340), row(256, "fixed-total", 0.79, 0.21, live=3340)]
    return phased(rows, {(16, "sparse"): (0.01, 0.02, 0.16), (256, "sparse"): (0.02, 0.03, 0.19 * 2.1),
                         (16, "fixed-total"): (0.01, 0.02, 0.15), (256, "fixed-total"): (0.02, 0.04, 0.15)})


def test_claim_d_uses_the_sparse_phase_alone_per_variant():
    claims = check_all_claims(rows_table(two_variant_rows()))
    assert list(claims) == ["sparse", "fixed-total"]
    d_seed, d_total = claims["sparse"][3], claims["fixed-total"][3]
    # 0.399 / 0.16 = 2.49 > 2: the seed's live weights grow (3,296 -> 5,696).
    assert d_seed.status == "FAIL" and d_seed.detail == \
        "width 256: 0.399 s (5,696 live) vs width 16: 0.160 s (3,296 live) = 2.49×"
    # 0.15 / 0.15 = 1: same live weights, same cost.
    assert d_total.status == "PASS" and d_total.variant == "fixed-total"
    assert d_total.detail == "width 256: 0.150 s (3,340 live) vs width 16: 0.150 s (3,340 live) = 1.00×"
    assert d_total.statement.startswith("O(nnz): fixed-total time of the sparse-training phase")


def test_claims_of_the_fixed_total_variant_are_its_own():
    claims = check_all_claims(rows_table(two_variant_rows()))["fixed-total"]
    a, b, c, _ = claims
    # width 256: 79 vs 83 -> Δ -4, outside; the seed's 81 vs 83 stays within 2.
    assert a.status == "FAIL" and "width 256: 79.00 vs 83.00 (Δ -4.00, outside)" in a.detail
    assert check_all_claims(rows_table(two_variant_rows()))["sparse"][0].status == "PASS"
    assert b.detail == "width 256: dense 19.00 s / fixed-total 0.210 s = 90.5×" and b.status == "PASS"
    assert c.status == "PASS" and c.detail.endswith("= 1.17×")  # 0.21 / 0.18
    assert claim_line(b).startswith("- **(b) PASS**: dense/fixed-total training-time ratio ≥ 20")


def test_only_seed_rows_give_only_seed_claims():
    rows = [r for r in two_variant_rows() if r["variant"] != "fixed-total"]
    assert list(check_all_claims(rows_table(rows))) == ["sparse"]
    assert list(check_all_claims(rows_table([]))) == ["sparse"]


def test_results_and_phase_rows_of_the_fixed_total_variant():
    rows = [{**r, "output_live_weights": 160, "hidden_live_weights": 3180, "live_hidden_units": 150}
            if r["variant"] == "fixed-total" else r for r in two_variant_rows()]
    table = rows_table(rows)
    assert results_rows(table, "fixed-total")[1] == [
        "256", "83.00", "79.00", "-4.00", "203264 / 3340", "19.00", "0.210", "90.5×"]
    assert phase_rows(table, "fixed-total") == [
        ["16", "3,180 + 160", "150", "0.010", "0.020", "0.150", "0.180"],
        ["256", "3,180 + 160", "150", "0.020", "0.040", "0.150", "0.210"]]
    # Old rows without output_live_weights show the total only.
    assert phase_rows(table, "sparse")[0][1:3] == ["3296", "16"]


def test_fmt_seconds():
    assert [fmt_seconds(x) for x in (12.345, 1.0, 0.996, 0.4567, 0.01, 0.0042, float("nan"))] == \
        ["12.35", "1.00", "1.00", "0.457", "0.010", "0.0042", "—"]
