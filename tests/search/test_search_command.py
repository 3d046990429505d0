"""`sparsenet search` end to end: a run directory per (method, run), results.json with the summary,
report.md and figures, `sparsenet report` rebuilding them, --resume; bad input refused in one line."""
import json

import pytest

from sparsenet.cli import main
import numpy as np

from sparsenet.report.search_report import check_claim, coverage, fisher_greater
from tests.refusals import assert_refused


def test_quick_search_writes_runs_results_and_report(tmp_path, capsys):
    d = tmp_path / "s"
    assert main(["search", "--quick", "--runs", "2", "--workers", "1", "--run-dir", str(d)]) == 0
    out = capsys.readouterr().out
    assert "novelty  solved" in out and "objective  solved" in out and "hybrid  solved" in out
    r = json.loads((d / "results.json").read_text())
    assert r["experiment"] == "search" and r["maze_key"] == "quick" and r["seeds"] == [0, 1]
    assert set(r["summary"]) == {"novelty", "objective", "hybrid"}
    for m in r["summary"]:
        for seed in (0, 1):
            run = d / "runs" / f"{m}-s{seed}"
            assert (run / "result.json").is_file() and (run / "positions.npy").is_file()
        s = r["summary"][m]
        assert s["runs"] == 2 and 0 <= s["solved"] <= 2 and s["budget"] == 3000
    assert [r["methods"][m]["objective_weight"] for m in ("novelty", "objective", "hybrid")] == [0.0, 1.0, 0.5]
    report = (d / "report.md").read_text()
    assert "## Success" in report and "| novelty | 0 |" in report and "final_positions.png" in report
    for png in ("final_positions.png", "success.png", "network_size.png"):
        assert (d / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (d / "report.md").unlink()
    assert main(["report", str(d)]) == 0 and (d / "report.md").read_text() == report
    before = (d / "results.json").stat().st_mtime_ns
    assert main(["search", "--quick", "--runs", "2", "--workers", "1", "--run-dir", str(d), "--resume"]) == 0
    assert (d / "results.json").stat().st_mtime_ns == before  # finished: read back, nothing rerun


def test_an_interrupted_search_resumes_its_runs(tmp_path, capsys):
    d = tmp_path / "s"
    argv = ["search", "--quick", "--runs", "1", "--methods", "objective", "--workers", "1", "--run-dir", str(d)]
    assert main(argv) == 0
    whole = json.loads((d / "results.json").read_text())
    (d / "results.json").unlink()
    (d / "runs" / "objective-s0" / "result.json").unlink()  # the run as a kill leaves it: its checkpoint only
    assert main(argv) == 2 and "--resume" in capsys.readouterr().err  # an existing run is not overwritten
    assert main(argv + ["--resume"]) == 0
    again = json.loads((d / "results.json").read_text())
    strip = lambda r: {k: v for k, v in r.items() if k not in ("machine", "command")}  # noqa: E731
    for r in (whole, again):
        for run in r["runs"]["objective"]:
            run.pop("seconds")
        r["summary"]["objective"].pop("seconds")
    assert strip(again) == strip(whole)


def test_runs_in_worker_processes(tmp_path, capsys):
    d = tmp_path / "s"
    assert main(["search", "--quick", "--runs", "1", "--methods", "novelty,objective", "--workers", "2",
                 "--run-dir", str(d)]) == 0
    r = json.loads((d / "results.json").read_text())
    assert [len(r["runs"][m]) for m in ("novelty", "objective")] == [1, 1]


def write(tmp_path, name, text) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


BOX = "walls = [[0, 0, 100, 0], [100, 0, 100, 100], [100, 100, 0, 100], [0, 100, 0, 0], [40, 60, 60, 60]]\n"


@pytest.mark.parametrize("extra, needle", [
    (["--k", "0"], "--k 0"),
    (["--k", "-3"], "give k >= 1"),
    (["--population", "0"], "--population 0"),
    (["--population", "1"], "at least 2"),
    (["--evaluations", "1001"], "not a multiple of --population 50; give 1000 or 1050"),
    (["--evaluations", "20"], "less than one generation"),
    (["--methods", "novelty,greedy"], "greedy"),
    (["--hybrid-weight", "1.5"], "--hybrid-weight 1.5"),
    (["--maze", "nowhere.toml"], "neither a built-in maze"),
])
def test_bad_input_is_refused_in_one_line(tmp_path, capsys, extra, needle):
    assert_refused(["search", "--quick"] + extra, tmp_path / "run", capsys, needle)


@pytest.mark.parametrize("maze, needle", [
    ('goal = [50, 50]\n' + BOX, "no start"),
    ('start = [20, 20]\n' + BOX, "no goal"),
    ('start = [20, 20]\ngoal = [50, 60]\n' + BOX, "goal (50, 60) is inside a wall"),
])
def test_bad_maze_files_are_refused_in_one_line(tmp_path, capsys, maze, needle):
    path = write(tmp_path, "maze.toml", maze)
    assert_refused(["search", "--quick", "--maze", path], tmp_path / "run", capsys, needle)


def test_fisher_exact_and_the_claim():
    assert fisher_greater(2, 2, 2, 2) == pytest.approx(1.0)
    # 3 of 3 vs 0 of 3: only the observed table is as extreme: 1 / C(6, 3)
    assert fisher_greater(3, 3, 0, 3) == pytest.approx(1 / 20)
    assert fisher_greater(39, 40, 3, 40) < 1e-15
    s = lambda k, n: {"solved": k, "runs": n, "success_rate": k / n}  # noqa: E731
    assert check_claim({"novelty": s(19, 20), "objective": s(1, 20)})[0] == "PASS"
    assert check_claim({"novelty": s(10, 20), "objective": s(8, 20)})[0] == "FAIL"
    assert check_claim({"novelty": s(3, 3)})[0] == "n/a"


def test_coverage_counts_grid_cells_reached():
    maze = {"walls": [[0, 0, 100, 0], [100, 0, 100, 50], [100, 50, 0, 50], [0, 50, 0, 0]]}
    pos = np.array([[1, 1], [9, 9], [15, 1], [99, 49], [100, 50.0]])  # cells (0,0) twice, (1,0), (9,4) twice
    assert coverage(pos, maze) == (3, 50)
    assert coverage(np.zeros((0, 2)), maze) == (0, 50)


def test_resume_may_add_runs_and_methods(tmp_path, capsys):
    d = tmp_path / "s"
    base = ["search", "--quick", "--workers", "1", "--run-dir", str(d)]
    assert main(base + ["--runs", "1", "--methods", "objective"]) == 0
    first = (d / "runs" / "objective-s0" / "result.json").stat().st_mtime_ns
    assert main(base + ["--runs", "2", "--methods", "objective,novelty", "--resume"]) == 0
    r = json.loads((d / "results.json").read_text())
    assert {m: s["runs"] for m, s in r["summary"].items()} == {"objective": 2, "novelty": 2}
    assert (d / "runs" / "objective-s0" / "result.json").stat().st_mtime_ns == first  # reused, not rerun
    assert main(base + ["--runs", "2", "--methods", "objective,novelty", "--population", "60", "--resume"]) == 2
    assert "differs in population" in capsys.readouterr().err
