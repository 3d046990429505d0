"""accuracy.png and speed.png of the seed figure: readable at the full run's nine widths with
the seed document's reference (widths 2-128): nothing clipped or overlapping, legends over no
data, short legend labels without a citation, width ticks as plain numbers."""
import warnings

import pytest
from matplotlib.ticker import NullFormatter

from sparsenet.experiments.seed_figure.config import FULL_WIDTHS, REFERENCE
from sparsenet.report.layout import LayoutWarning, check_layout
from sparsenet.report.seed_plots import (accuracy_figure, plot_accuracy, plot_speed, speed_figure,
                                         width_ticks)
from sparsenet.report.seedtable import rows_table


def full_rows(variants=("dense", "sparse", "fixed-total")):
    """Rows shaped like a full run (numbers of the README's measured table, roughly)."""
    rows = []
    for i, w in enumerate(FULL_WIDTHS):
        for v in variants:
            secs = {"dense": 7.0 * 1.6 ** i, "sparse": 0.19 * 1.2 ** i, "fixed-total": 0.18 + 0.03 * i}[v]
            rows.append({"width": w, "variant": v, "test_accuracy": 0.8 + 0.001 * i - 0.01 * (v != "dense"),
                         "train_seconds": secs, "live_weights": 3340, "run_dir": f"runs/w{w}-{v}",
                         "phase_seconds": {"burnin": 0.01 * i, "prune": 0.02 * i, "sparse": secs / 2}})
    return rows


def labels_of(fig):
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


@pytest.mark.parametrize("variants", [("dense", "sparse", "fixed-total"), ("dense", "sparse")])
def test_figures_have_nothing_clipped_or_overlapping(variants):
    table = rows_table(full_rows(variants))
    for fig in (accuracy_figure(table, REFERENCE, "test accuracy, fashion-mnist"),
                speed_figure(table, REFERENCE, ratio_line=20.0)):
        assert check_layout(fig) == []
        labels = labels_of(fig)
        assert "dense" in labels and "sparse (seed)" in labels
        assert ("sparse, fixed total" in labels) == ("fixed-total" in variants)
        assert "dense, reference (MNIST)" in labels
        # Short labels; the source is cited in report.md, never in a legend.
        assert all(len(lab) <= 30 and "issue" not in lab and "Lee" not in lab for lab in labels)
        for ax in fig.axes:
            shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
            assert shown == ["4", "16", "64", "256", "1024", "4096"]
            assert isinstance(ax.xaxis.get_minor_formatter(), NullFormatter)


def test_speed_figure_has_three_panels_one_idea_each():
    fig = speed_figure(rows_table(full_rows()), REFERENCE, ratio_line=20.0)
    assert [ax.get_title() for ax in fig.axes] == [
        "training time, whole run", "sparse-training phase only", "speed-up over dense"]
    # The phase panel holds the sparse variants only, no reference (it has no phases).
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["sparse (seed)", "sparse, fixed total"]
    assert "20× (claim b)" in labels_of(fig)


def test_width_ticks():
    assert width_ticks(FULL_WIDTHS) == ([16, 64, 256, 1024, 4096], [32, 128, 512, 2048])
    assert width_ticks([2, 4, 8, 16]) == ([2, 4, 8, 16], [])
    # Not powers of two: every k-th, ending at the largest.
    ws = [10, 20, 30, 40, 50, 60, 70, 80]
    assert width_ticks(ws) == ([20, 40, 60, 80], [10, 30, 50, 70])
    assert width_ticks([]) == ([], [])


def test_pngs_are_written_without_layout_warnings(tmp_path):
    table = rows_table(full_rows())
    with warnings.catch_warnings():
        warnings.simplefilter("error", LayoutWarning)
        for path in (plot_accuracy(table, REFERENCE, tmp_path / "accuracy.png"),
                     plot_speed(table, REFERENCE, tmp_path / "speed.png", ratio_line=20.0)):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_without_data_still_render(tmp_path):
    for fig in (accuracy_figure({}, None), speed_figure({}, None)):
        assert check_layout(fig) == []
