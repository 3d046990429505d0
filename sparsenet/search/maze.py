"""Mazes for the navigation domain of Lehman & Stanley (2011): wall segments, a start pose, a goal.

The **medium** and **hard** mazes are the paper's (Lehman & Stanley, "Abandoning Objectives:
Evolution through the Search for Novelty Alone", Evolutionary Computation 19(2), 2011, Figure 3);
their coordinates are those of the authors' public maze files (``medium_maze.txt``,
``hard_maze.txt``, as distributed with the novelty-search NEAT sources and their ports, e.g.
github.com/yaricom/goNEAT_NS ``data/``). **quick** is ours: a small deceptive maze (a wall between the
start and the goal, open at the far end, and a pocket round the start) for tests.

A maze file is TOML::

    start = [36.0, 184.0]      # robot centre
    heading = 0.0              # degrees, counter-clockwise from +x
    goal = [31.0, 20.0]
    walls = [[5, 5, 5, 200], [5, 200, 200, 200], ...]   # segments x1, y1, x2, y2

or the original text format (wall count, start, heading, goal, then one segment per line; lines
starting with ``#`` are comments). `load_maze` refuses, in one line, a file without a start or a
goal, a start where the robot overlaps a wall, and a goal no robot position can reach.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

ROBOT_RADIUS = 8.0        # the paper's robot body radius
RANGEFINDER_RANGE = 100.0  # rangefinder reach
GOAL_RADIUS = 5.0          # "within five units of the goal" counts as solved


@dataclass(frozen=True)
class Maze:
    """A checked maze (`make_maze`, `load_maze`): wall segments, start pose and goal."""

    name: str
    walls: np.ndarray  # (W, 4) float64: x1, y1, x2, y2
    start: tuple[float, float]
    heading: float
    goal: tuple[float, float]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the walls."""
        w = self.walls
        xs, ys = np.concatenate([w[:, 0], w[:, 2]]), np.concatenate([w[:, 1], w[:, 3]])
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

    @property
    def diagonal(self) -> float:
        x0, y0, x1, y1 = self.bounds
        return math.hypot(x1 - x0, y1 - y0)

    def as_dict(self) -> dict:
        return {"name": self.name, "start": list(self.start), "heading": self.heading, "goal": list(self.goal),
                "walls": self.walls.tolist()}


_BOX_HARD = [[5, 5, 5, 200], [5, 200, 200, 200], [200, 200, 200, 5], [200, 5, 5, 5]]
_BOX_MEDIUM = [[5, 5, 295, 5], [295, 5, 295, 135], [295, 135, 5, 135], [5, 135, 5, 5]]
BUILTIN = {
    "hard": dict(start=(36.0, 184.0), heading=0.0, goal=(31.0, 20.0), walls=_BOX_HARD + [
        [5, 49, 57, 53], [56, 54, 56, 157], [57, 106, 158, 162], [77, 200, 108, 164], [5, 80, 33, 121],
        [200, 146, 87, 91], [56, 55, 133, 30]]),
    "medium": dict(start=(30.0, 22.0), heading=0.0, goal=(270.0, 100.0), walls=_BOX_MEDIUM + [
        [241, 135, 58, 65], [114, 5, 73, 42], [130, 91, 107, 46], [196, 5, 139, 51], [219, 125, 182, 63],
        [267, 5, 214, 63], [271, 135, 237, 88]]),
    # ours: the robot starts in a pocket under the goal, its open side facing away from the exit; the
    # pocket's top (15 below the wall, 45 from the goal) is the deceptive optimum, the way out leads down,
    # right and round the far end of the long wall
    "quick": dict(start=(20.0, 35.0), heading=0.0, goal=(20.0, 80.0), walls=[
        [0, 0, 120, 0], [120, 0, 120, 100], [120, 100, 0, 100], [0, 100, 0, 0], [0, 50, 95, 50],
        [45, 50, 45, 20]]),
}


def maze_names() -> list[str]:
    """The built-in mazes' names."""
    return sorted(BUILTIN)


def clearance(maze_walls: np.ndarray, x: float, y: float) -> float:
    """Distance from (x, y) to the nearest wall."""
    from .robot import segment_distance

    return min(segment_distance(float(x), float(y), *map(float, s)) for s in maze_walls)


def make_maze(name: str, *, walls, start, goal, heading=0.0) -> Maze:
    """A checked Maze; `name` names the source in every error."""
    if start is None:
        raise ConfigError(f"maze {name}: no start; give start = [x, y] (the robot's centre)")
    if goal is None:
        raise ConfigError(f"maze {name}: no goal; give goal = [x, y]")
    try:
        w = np.asarray(walls, dtype=np.float64)
        sx, sy = (float(v) for v in start)
        gx, gy = (float(v) for v in goal)
        heading = float(heading)
    except (TypeError, ValueError):
        raise ConfigError(f"maze {name}: start and goal must be [x, y], heading a number, walls a list of "
                          "[x1, y1, x2, y2]") from None
    if w.ndim != 2 or w.shape[1:] != (4,) or len(w) == 0:
        raise ConfigError(f"maze {name}: walls must be a non-empty list of [x1, y1, x2, y2] segments, "
                          f"got shape {tuple(w.shape)}")
    if not (np.isfinite(w).all() and all(map(math.isfinite, (sx, sy, gx, gy, heading)))):
        raise ConfigError(f"maze {name}: coordinates must be finite numbers")
    x0, y0, x1, y1 = w[:, [0, 2]].min(), w[:, [1, 3]].min(), w[:, [0, 2]].max(), w[:, [1, 3]].max()
    for what, (px, py) in (("start", (sx, sy)), ("goal", (gx, gy))):
        if not (x0 < px < x1 and y0 < py < y1):
            raise ConfigError(f"maze {name}: the {what} ({px:g}, {py:g}) is outside the walls' box "
                              f"[{x0:g}, {x1:g}] x [{y0:g}, {y1:g}]; move it inside")
    c = clearance(w, sx, sy)
    if c < ROBOT_RADIUS:
        raise ConfigError(f"maze {name}: the start ({sx:g}, {sy:g}) is {c:.3g} from a wall, less than the robot's "
                          f"radius {ROBOT_RADIUS:g}; move the start into free space")
    c = clearance(w, gx, gy)
    if c + GOAL_RADIUS <= ROBOT_RADIUS:
        raise ConfigError(f"maze {name}: the goal ({gx:g}, {gy:g}) is inside a wall: {c:.3g} from one, so no robot "
                          f"centre (radius {ROBOT_RADIUS:g}) gets within {GOAL_RADIUS:g} of it; move the goal at "
                          f"least {ROBOT_RADIUS - GOAL_RADIUS:g} away from every wall")
    return Maze(name, w, (sx, sy), heading, (gx, gy))


def _parse_text(path: Path, text: str) -> dict:
    rows = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    try:
        n = int(rows[0][0])
        start = [float(v) for v in rows[1][:2]] if len(rows) > 1 else None
        heading = float(rows[2][0]) if len(rows) > 2 else 0.0
        goal = [float(v) for v in rows[3][:2]] if len(rows) > 3 else None
        walls = [[float(v) for v in r[:4]] for r in rows[4:4 + n]]
    except (IndexError, ValueError):
        raise ConfigError(f"maze file {path}: cannot read it as the text format (wall count, start x y, heading, "
                          "goal x y, then x1 y1 x2 y2 per wall) nor as TOML") from None
    if start is not None and len(start) != 2 or goal is not None and len(goal) != 2:
        raise ConfigError(f"maze file {path}: start and goal lines must each hold two numbers, x y")
    return dict(start=start, heading=heading, goal=goal, walls=walls)


def load_maze(spec: str) -> Maze:
    """A built-in maze by name (hard, medium, quick) or a maze file (TOML or the original text format)."""
    if spec in BUILTIN:
        return make_maze(spec, **BUILTIN[spec])
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"maze {spec!r} is neither a built-in maze ({', '.join(maze_names())}) nor a file")
    text = path.read_text(errors="replace")
    import tomllib

    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        d = _parse_text(path, text)
    else:
        unknown = sorted(set(d) - {"start", "goal", "heading", "walls", "name"})
        if unknown:
            raise ConfigError(f"maze file {path}: unknown key(s) {', '.join(unknown)}; valid: start, goal, heading, walls")
        d.pop("name", None)
    return make_maze(str(path), walls=d.get("walls", []), start=d.get("start"), goal=d.get("goal"),
                     heading=d.get("heading", 0.0))


__all__ = ["BUILTIN", "GOAL_RADIUS", "Maze", "RANGEFINDER_RANGE", "ROBOT_RADIUS", "clearance", "load_maze",
           "make_maze", "maze_names"]
