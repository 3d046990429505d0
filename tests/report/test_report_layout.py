"""check_layout on figures broken on purpose, legend relocation, and readable ticks."""
import re

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from matplotlib.transforms import Bbox

from sparsenet.report.layout import _segments_inside, check_layout, covered_data, relocate_legends
from sparsenet.report.ticks import ReadableLogLocator, log_axis, plain_number, value_axis


def _fig(w=6.0, h=4.0, layout="tight"):
    fig = Figure(figsize=(w, h), dpi=100, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _clean():
    fig = _fig()
    ax = fig.subplots()
    ax.plot([0, 1, 2, 3], [3, 2, 1, 0.5], label="curve")
    ax.set(xlabel="x", ylabel="y", title="a clean figure")
    ax.legend(loc="upper right")
    return fig


def test_a_clean_figure_has_no_problem():
    assert check_layout(_clean()) == []


def test_legend_outside_the_canvas_is_reported():
    fig = _fig(layout=None)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="a line with a long label")
    ax.legend(loc="upper left", bbox_to_anchor=(1.05, 1.0))  # no layout engine makes room
    problems = check_layout(fig)
    assert any("legend of panel 1" in p and "cut by the canvas edge (right by" in p for p in problems), problems


def test_overlapping_tick_labels_are_reported():
    fig = _fig()
    ax = fig.subplots()
    ax.plot([0, 10], [0, 1])
    ax.set_xticks([1.0, 1.1, 5.0], ["one thousand", "one thousand and ten", "five"])
    problems = check_layout(fig)
    assert problems == ["x tick labels 'one thousand' and 'one thousand and ten' of panel 1 overlap"]


def test_overlapping_titles_and_a_clipped_title():
    fig = _fig(layout=None)
    ax = fig.subplots()
    fig.subplots_adjust(top=0.93)
    ax.set_title("the panel's title")
    fig.suptitle("the figure's title", y=0.96)
    ax2 = fig.add_axes((0.6, 0.2, 0.3, 0.3))
    ax2.set_title("a title far too long to fit into the right part of this small canvas")
    problems = check_layout(fig)
    assert "figure title \"the figure's title\" and title \"the panel's title\" overlap" in problems
    assert any(p.startswith("title 'a title far too long") and "(right by" in p for p in problems), problems


def test_legend_over_the_tick_labels_and_the_axis_label():
    fig = _fig(layout=None)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_ylabel("value")
    ax.legend(loc="center right", bbox_to_anchor=(0.02, 0.59))  # left of the panel: on the 0.6 tick
    problems = check_layout(fig, data=False)
    assert any("covers the y label 'value'" in p for p in problems), problems
    assert any("covers the y tick label" in p for p in problems), problems


def test_legend_over_the_data_and_its_relocation():
    fig = _fig()
    ax = fig.subplots()
    x = np.linspace(0, 1, 50)
    for k in range(6):  # lines everywhere: no corner is free
        ax.plot(x, k / 5 + 0 * x, label=f"line {k}")
    ax.plot(x, x, label="diagonal")
    ax.legend(loc="center")
    fig.canvas.draw()
    assert covered_data(ax.get_legend(), [ax], fig.canvas.get_renderer()) > 0
    assert any("covers data of its panel" in p for p in check_layout(fig))
    assert relocate_legends(fig)
    fig.canvas.draw()
    leg = ax.get_legend()
    assert [t.get_text() for t in leg.get_texts()] == [f"line {k}" for k in range(6)] + ["diagonal"]
    assert leg.get_window_extent(fig.canvas.get_renderer()).x0 >= ax.bbox.x1  # beside the panel
    assert check_layout(fig) == []
    assert not relocate_legends(fig)  # nothing left to move


def test_a_line_crossing_a_box_counts_without_a_vertex_inside():
    box = Bbox([[0, 0], [10, 10]])
    # (-5, 5) -> (15, 5) sampled every pixel: x = -4 ... 15; inside 0 < x < 10: x = 1 ... 9
    assert _segments_inside(np.array([[-5.0, 5.0], [15.0, 5.0]]), box) == 9
    assert _segments_inside(np.array([[-5.0, 20.0], [15.0, 20.0]]), box) == 0  # passes above
    assert _segments_inside(np.array([[5.0, 5.0]]), box) == 1  # a lone marker inside


def test_a_legend_in_a_free_corner_covers_nothing():
    fig = _clean()
    fig.canvas.draw()
    assert covered_data(fig.axes[0].get_legend(), fig.axes, fig.canvas.get_renderer()) == 0
    assert not relocate_legends(fig)


@pytest.mark.parametrize("value, text", [
    (2.0, "2"), (1.9, "1.9"), (0.05, "0.05"), (300.0, "300"), (10000.0, "10000"), (0.001, "0.001"), (0.00025, "0.00025"),
    (0.0, "0"), (1e-6, "$10^{-6}$"), (2e-6, "$2\\times10^{-6}$"), (1e7, "$10^{7}$")])
def test_plain_number(value, text):
    assert plain_number(value) == text


def _labels(ax, which="y"):
    fig = ax.figure
    fig.canvas.draw()
    axis = ax.yaxis if which == "y" else ax.xaxis
    lo, hi = sorted(axis.get_view_interval())
    return [t.get_text() for t, v in zip(axis.get_ticklabels(), axis.get_ticklocs())
            if lo <= v <= hi and t.get_text()]


def test_a_narrow_log_axis_gets_plain_round_ticks():
    # the training curve: loss from 1.6 to 2.2 on a log axis labelled 2×10⁰, 1.9×10⁰
    fig = _fig()
    ax = fig.subplots()
    ax.plot([1, 2, 3], [2.2, 1.9, 1.6])
    log_axis(ax, "y")
    labels = _labels(ax)
    assert len(labels) >= 3 and all("10^" not in t and "times" not in t for t in labels), labels
    assert {"1.8", "2"} <= set(labels)
    assert check_layout(fig) == []


def test_a_wide_log_axis_keeps_decades_and_fits():
    fig = _fig()
    ax = fig.subplots()
    ax.plot([1, 2], [1e-30, 1e4])
    log_axis(ax, "y")
    labels = _labels(ax)
    plain = {"0.0001", "0.001", "0.01", "0.1", "1", "10", "100", "1000", "10000"}
    assert "1" in labels and all(t in plain or re.fullmatch(r"\$10\^\{-?\d+\}\$", t) for t in labels), labels
    assert check_layout(fig) == []


def test_readable_log_locator_uses_one_two_five_within_a_few_decades():
    ticks = ReadableLogLocator().tick_values(1.0, 1000.0)  # no axis: no width limit
    assert [t for t in ticks if 1 <= t <= 1000] == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]


def test_widths_are_plain_numbers():
    fig = _fig()
    ax = fig.subplots()
    ax.plot([16, 64, 256], [1, 2, 3])
    value_axis(ax, [16, 64, 256], "x", base=2)
    assert _labels(ax, "x") == ["16", "64", "256"]
    assert ax.get_xscale() == "log"
