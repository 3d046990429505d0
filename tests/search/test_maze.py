"""Mazes: the built-ins are the paper's coordinates; files in TOML or the original text format;
bad mazes refused in one line (no start, no goal, goal inside a wall, start overlapping a wall)."""
import numpy as np
import pytest

from sparsenet.errors import ConfigError
from sparsenet.search.maze import BUILTIN, GOAL_RADIUS, ROBOT_RADIUS, clearance, load_maze, make_maze


def test_builtin_mazes_are_the_papers():
    hard = load_maze("hard")
    assert hard.start == (36.0, 184.0) and hard.goal == (31.0, 20.0) and hard.walls.shape == (11, 4)
    assert hard.bounds == (5.0, 5.0, 200.0, 200.0)
    medium = load_maze("medium")
    assert medium.start == (30.0, 22.0) and medium.goal == (270.0, 100.0) and medium.walls.shape == (11, 4)
    for name in BUILTIN:  # every built-in is a valid maze: start in free space, goal reachable
        m = load_maze(name)
        assert clearance(m.walls, *m.start) >= ROBOT_RADIUS
        assert clearance(m.walls, *m.goal) + GOAL_RADIUS > ROBOT_RADIUS


def test_toml_and_text_formats_read_the_same_maze(tmp_path):
    toml = tmp_path / "m.toml"
    toml.write_text('start = [20.0, 20.0]\nheading = 90.0\ngoal = [80.0, 80.0]\n'
                    'walls = [[0, 0, 100, 0], [100, 0, 100, 100], [100, 100, 0, 100], [0, 100, 0, 0]]\n')
    text = tmp_path / "m.txt"
    text.write_text("# walls\n4\n# start\n20 20\n90\n80 80\n0 0 100 0\n100 0 100 100\n100 100 0 100\n0 100 0 0\n")
    a, b = load_maze(str(toml)), load_maze(str(text))
    assert a.start == b.start == (20.0, 20.0) and a.goal == b.goal == (80.0, 80.0) and a.heading == b.heading == 90.0
    np.testing.assert_array_equal(a.walls, b.walls)


BOX = [[0, 0, 100, 0], [100, 0, 100, 100], [100, 100, 0, 100], [0, 100, 0, 0]]


@pytest.mark.parametrize("kwargs, needle", [
    (dict(walls=BOX, start=None, goal=(50, 50)), "no start"),
    (dict(walls=BOX, start=(50, 50), goal=None), "no goal"),
    (dict(walls=BOX + [[40, 60, 60, 60]], start=(20, 20), goal=(50, 60)), "goal (50, 60) is inside a wall"),
    (dict(walls=BOX, start=(20, 20), goal=(1, 50)), "inside a wall"),
    (dict(walls=BOX, start=(3, 50), goal=(50, 50)), "less than the robot's radius"),
    (dict(walls=BOX, start=(20, 20), goal=(150, 50)), "outside the walls' box"),
    (dict(walls=[], start=(20, 20), goal=(50, 50)), "non-empty list"),
    (dict(walls=[[0, 0, 1]], start=(20, 20), goal=(50, 50)), "x1, y1, x2, y2"),
])
def test_bad_mazes_are_refused_in_one_line(kwargs, needle):
    with pytest.raises(ConfigError) as e:
        make_maze("m", **kwargs)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_goal_near_but_not_inside_a_wall_is_accepted():
    # 4 from a wall: a robot centre 8 from the wall is 4 from the goal, within the 5 that count
    make_maze("m", walls=BOX + [[40, 60, 60, 60]], start=(20, 20), goal=(50, 56))


def test_maze_files_without_start_or_goal_or_with_unknown_keys(tmp_path):
    f = tmp_path / "nogoal.toml"
    f.write_text("start = [20, 20]\nwalls = [[0, 0, 100, 0], [100, 0, 100, 100], [100, 100, 0, 100], [0, 100, 0, 0]]\n")
    with pytest.raises(ConfigError, match="no goal"):
        load_maze(str(f))
    f.write_text("start = [20, 20]\ngoal = [50, 50]\nwals = []\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_maze(str(f))
    t = tmp_path / "short.txt"
    t.write_text("4\n20 20\n")
    with pytest.raises(ConfigError, match="no goal"):
        load_maze(str(t))
    with pytest.raises(ConfigError, match="neither a built-in maze"):
        load_maze(str(tmp_path / "missing.toml"))
