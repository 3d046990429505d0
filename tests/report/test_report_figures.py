"""What the figures draw and what the reports say: phase boundaries, censored learning speed,
mean ± sample std, training time of merged lottery runs, thread counts."""
import math

import pytest

from sparsenet.report import lottery_report, plots
from sparsenet.report.lottery_report import (artifact_counts, level_ticks, plot_levels, speed_cell,
                                             timing_line, training_seconds)
from sparsenet.report.markdown import machine_line, threads_text
from sparsenet.report.stats import format_mean_std


@pytest.fixture
def drawn(monkeypatch):
    """Figures handed to `_save`, inspected instead of written."""
    figs = []

    def keep(fig, path):
        figs.append(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    monkeypatch.setattr(lottery_report, "_save", keep)
    return figs


def _train_events(log_every_burnin, burnin=200, total=3200):
    # the loop logs every `log_every_burnin` samples and at the phase's last step
    logged = sorted(set(range(log_every_burnin, burnin, log_every_burnin)) | {burnin})
    ev = [{"event": "train", "phase": "burnin", "samples": s, "loss": 2.0} for s in logged]
    ev += [{"event": "phase_end", "phase": "burnin", "seconds": 0.1},
           {"event": "eval", "phase": "burnin", "samples": burnin, "accuracy": 0.4},
           {"event": "prune", "rounds": 1}, {"event": "phase_end", "phase": "prune", "seconds": 0.01}]
    ev += [{"event": "train", "phase": "sparse", "samples": s, "loss": 1.0} for s in range(1200, total + 1, 1000)]
    ev += [{"event": "eval", "phase": "sparse", "samples": total, "accuracy": 0.7}]
    return ev


def test_phase_ends_at_the_last_sample_of_the_phase():
    # burn-in logged once (at 200), the sparse phase at 1200, 2200, ...: the boundary is 200, not 700
    assert plots._phase_ends(_train_events(1000)) == [("burnin", "sparse", 200)]
    assert plots._phase_ends(_train_events(50)) == [("burnin", "sparse", 200)]
    assert plots._phase_ends([{"event": "phase_end", "phase": "a", "samples": 64},
                              {"event": "train", "phase": "b", "samples": 128, "loss": 1}]) == [("a", "b", 64)]


def test_a_burn_in_logged_once_is_drawn_with_its_boundary(drawn):
    plots.plot_training_curve(_train_events(1000), "curve.png")
    (fig,) = drawn
    ax = fig.axes[0]
    burnin = next(line for line in ax.get_lines() if line.get_label() == "train loss (burnin)")
    assert list(burnin.get_xdata()) == [200] and burnin.get_marker() == "o"  # one point, still seen
    vlines = [line for line in ax.get_lines() if list(line.get_xdata()) == [200, 200]]
    assert len(vlines) == 1
    assert ax.get_xscale() == "log"  # 200 of 3200 samples: the burn-in gets room
    assert ax.get_yscale() == "log"


def _level(level, density, kinds):
    return {"level": level, "density": density, "kinds": {
        k: {"speed_step": {"mean": m, "std": s, "n": n}} for k, (m, s, n) in kinds.items()}}


def test_learning_speed_never_reached_is_marked_not_dropped(drawn):
    levels = [_level(0, 1.0, {"ticket": (60.0, 0.0, 2)}),
              _level(1, 0.5, {"ticket": (50.0, 14.1, 2), "reinit": (math.nan, math.nan, 0)}),
              _level(2, 0.25, {"ticket": (40.0, math.nan, 1), "reinit": (math.nan, math.nan, 0)})]
    rows = [{"level": lv, "kind": k} for lv, k in [(0, "ticket")] * 2 + [(1, "ticket")] * 2 + [(1, "reinit")] * 2
            + [(2, "ticket")] * 2 + [(2, "reinit")] * 2]
    plot_levels(levels, "speed_step", "speed.png", "step", "speed", scale=1.0, runs=artifact_counts(rows))
    (fig,) = drawn
    ax = fig.axes[0]
    triangles = [line for line in ax.get_lines() if line.get_marker() == "^" and len(line.get_xdata())]
    assert sorted(float(line.get_xdata()[0]) for line in triangles) == [25.0, 50.0]  # reinit at levels 1, 2
    assert "not reached" in ax.get_legend_handles_labels()[1]
    assert [t.get_text() for t in ax.texts] == ["1/2"]  # one of two ticket seeds reached it at level 2


def test_speed_cells():
    assert speed_cell({"mean": math.nan, "std": math.nan, "n": 0}, 2) == "not reached"
    assert speed_cell({"mean": 50.0, "std": 14.14, "n": 2}, 2) == "50 ± 14"
    assert speed_cell({"mean": 40.0, "std": math.nan, "n": 1}, 2) == "40 (1/2 reached)"
    assert speed_cell({"mean": math.nan, "std": math.nan, "n": 0}, 0) == "—"


def test_mean_std_text_hides_the_spread_of_one_value():
    assert format_mean_std({"mean": 0.705, "std": 0.0024, "n": 2}, 100.0) == "70.50 ± 0.24"
    assert format_mean_std({"mean": 0.705, "std": math.nan, "n": 1}, 100.0) == "70.50"  # not "± 0.00"
    assert format_mean_std({"mean": 0.705, "std": 0.0, "n": 1}, 100.0) == "70.50"
    assert format_mean_std({"mean": math.nan, "std": math.nan, "n": 0}) == "—"


def test_level_ticks_are_thinned_on_the_log_axis():
    # rate 0.2: 100, 80, 64, 51.2, 41, 32.8 -> neighbours at least 1.4x apart
    assert level_ticks([100, 80, 64, 51.2, 40.96, 32.77]) == [100, 64, 40.96]
    assert level_ticks([100, 50.5, 25.7, 13.3]) == [100, 50.5, 25.7, 13.3]


def test_training_time_of_a_merged_lottery_run_is_the_sum_of_its_artifacts():
    # seed directories trained elsewhere, then merged: this invocation only read them back
    rows = [{"level": 0, "kind": "ticket", "train_seconds": 12.5},
            {"level": 1, "kind": "ticket", "train_seconds": 10.0},
            {"level": 1, "kind": "reinit", "train_seconds": [4.0, 3.5]}]  # resumed: two segments
    assert training_seconds(rows) == (30.0, 3)
    line = timing_line({"rows": rows, "wall_seconds": 0.1})
    assert line.startswith("Training time: 30.0 s, the sum of what the 3 trained tickets and controls recorded")
    assert "took 0.1 s of wall time (it read finished artifacts back" in line
    assert "wall 0.1" not in line
    assert timing_line({"rows": [], "wall_seconds": 2.0}).startswith("Training time: not recorded")


def test_one_thread():
    assert threads_text(1) == "1 thread" and threads_text(4) == "4 threads"
    assert "1 thread ·" in machine_line({"cpu": "X", "threads": 1, "torch": "2"})
