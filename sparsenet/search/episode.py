"""`simulate`: run a population of genomes in a maze (one numba call over all of them)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import robot
from .genome import Genome, pack
from .maze import GOAL_RADIUS, RANGEFINDER_RANGE, ROBOT_RADIUS, Maze


@dataclass
class Episodes:
    """What `simulate` returns for a population: final positions, solve steps, sampled trails."""

    final: np.ndarray      # (P, 2) final positions (where the goal was reached, for solvers)
    solved_at: np.ndarray  # (P,) the step the goal was reached, -1 if never
    trail: np.ndarray      # (P, K, 2) positions every `trail_every` steps (K = 0 when not asked)

    @property
    def solved(self) -> np.ndarray:
        return self.solved_at >= 0


def simulate(genomes: list[Genome], maze: Maze, timesteps: int, *, trail_every: int = 0) -> Episodes:
    """Run every genome's controller for one episode of `timesteps` steps in `maze` (all in one numba
    call, in parallel over the genomes); `trail_every` > 0 also samples each path every so many steps."""
    if not genomes:
        raise ValueError("simulate needs at least one genome")
    node_ptr, in_ptr, src, weight = pack(genomes)
    p = len(genomes)
    final = np.zeros((p, 2))
    solved_at = np.full(p, -1, np.int64)
    k = timesteps // trail_every if trail_every > 0 else 0
    trail = np.zeros((p, k, 2))
    robot.run_population(node_ptr, in_ptr, src, weight, maze.walls, np.asarray(maze.start, np.float64),
                         float(maze.heading), np.asarray(maze.goal, np.float64), int(timesteps), ROBOT_RADIUS,
                         RANGEFINDER_RANGE, GOAL_RADIUS, robot.RANGEFINDER_ANGLES, robot.RADAR_LO, robot.RADAR_HI,
                         robot.N_INPUTS, final, solved_at, trail, int(trail_every))
    return Episodes(final, solved_at, trail)


__all__ = ["Episodes", "simulate"]
