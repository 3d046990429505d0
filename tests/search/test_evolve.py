"""One evolutionary run: budget and stopping, the record of every evaluation, and resume from a
checkpoint ending bit-identical to an uninterrupted run."""
import json

import numpy as np
import pytest

from sparsenet.search.evolve import SearchSettings, run_search
from sparsenet.search.genome import check_genome, Genome
from sparsenet.search.maze import GOAL_RADIUS, load_maze

QUICK = load_maze("quick")


def small(w, **kw):
    return SearchSettings(objective_weight=w, population=30, max_evaluations=kw.pop("budget", 600),
                          timesteps=kw.pop("timesteps", 120), checkpoint_every=2, **kw)


def test_budget_is_spent_in_whole_generations_and_every_evaluation_is_recorded(tmp_path):
    r = run_search(small(1.0, budget=300), QUICK, 0, tmp_path)
    pos = np.load(tmp_path / "positions.npy")
    hist = [json.loads(x) for x in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert len(pos) == r["evaluations"] == 30 * r["generations"] == 30 * len(hist)
    assert [h["evaluations"] for h in hist] == [30 * (i + 1) for i in range(len(hist))]
    if not r["solved"]:
        assert r["evaluations"] == 300 and r["evaluations_to_solve"] is None
    assert r["best_distance"] == pytest.approx(min(h["best_distance"] for h in hist))


def test_a_solved_run_stops_at_its_first_solver(tmp_path):
    solved = None
    for seed in range(6):
        r = run_search(small(0.0, budget=3000, timesteps=250), QUICK, seed, tmp_path / str(seed))
        if r["solved"]:
            solved = (seed, r)
            break
    assert solved, "novelty search solved none of 6 quick runs"
    seed, r = solved
    pos = np.load(tmp_path / str(seed) / "positions.npy")
    first = r["evaluations_to_solve"]
    d = np.hypot(*(pos - np.array(QUICK.goal)).T)
    assert d[first - 1] < GOAL_RADIUS and (d[:first - 1] >= GOAL_RADIUS).all()
    assert r["evaluations"] == len(pos) and r["evaluations"] - first < 30  # stopped within that generation
    winner = Genome.from_state(r["winner"])
    assert check_genome(winner) == [] and r["winner"]["connections"] == winner.n_connections


class Stop(Exception):
    pass


@pytest.mark.parametrize("w", [0.0, 0.5])
def test_resume_from_a_checkpoint_is_bit_identical(tmp_path, w):
    s = small(w, budget=450)
    whole = run_search(s, QUICK, 3, tmp_path / "whole")

    def stop_at(row):
        if row["generation"] == 6:
            raise Stop

    with pytest.raises(Stop):
        run_search(s, QUICK, 3, tmp_path / "cut", on_generation=stop_at)
    state = json.loads((tmp_path / "cut" / "state.json").read_text())
    assert state["generation"] == 6 and not (tmp_path / "cut" / "result.json").exists()
    resumed = run_search(s, QUICK, 3, tmp_path / "cut")
    drop = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    assert drop(resumed) == drop(whole)
    np.testing.assert_array_equal(np.load(tmp_path / "cut" / "positions.npy"),
                                  np.load(tmp_path / "whole" / "positions.npy"))
    assert (tmp_path / "cut" / "history.jsonl").read_text() == (tmp_path / "whole" / "history.jsonl").read_text()
    assert run_search(s, QUICK, 3, tmp_path / "cut") == resumed  # a finished run is read back


def test_methods_differ_only_by_the_objective_weight(tmp_path):
    a = run_search(small(0.0, budget=120), QUICK, 1, tmp_path / "n")
    b = run_search(small(1.0, budget=120), QUICK, 1, tmp_path / "o")
    pa, pb = np.load(tmp_path / "n" / "positions.npy"), np.load(tmp_path / "o" / "positions.npy")
    np.testing.assert_array_equal(pa[:30], pb[:30])  # the same first generation from the same seed
    assert not np.array_equal(pa[30:], pb[30:]) or a["solved"] or b["solved"]
