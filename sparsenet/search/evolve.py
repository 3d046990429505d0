"""One evolutionary run: NEAT-style generations of sparse controllers scored by novelty, by the
objective, or by a weighted mix of both, with the same code.

Each generation: simulate every genome (`episode.simulate`); behaviour = final position; objective
``F = 1 - d_goal / D`` (D the maze's diagonal: the paper's ``b_f - d_g`` up to scale); novelty =
mean distance to the k nearest behaviours among the population and the archive; both min-max
normalised over the generation and mixed as ``score = (1 - w) · N + w · F`` (w = 0 novelty search,
1 objective search, in between the hybrid). Then speciation, offspring shared by species' mean
score, the best of each species of five or more kept unchanged, and the others bred by mutation from
the top `survival` fraction of their species. Stops at the first genome that reaches the goal or when
the evaluation budget is spent.

The state (genomes, innovation history, archive, species, generator state, history) is a JSON file
written atomically every `checkpoint_every` generations; a resumed run ends bit-identical to an
uninterrupted one. Every evaluated individual's final position goes to ``positions.npy``.
"""
from __future__ import annotations

import io as _io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import io
from .episode import simulate
from .genome import Genome, Innovations, MutationRates, crossover, initial_genome, mutate
from .maze import Maze
from .novelty import Archive, knn_novelty
from .robot import N_INPUTS, N_OUTPUTS
from .species import adjust_threshold, allot, speciate

STATE = "state.json"
POSITIONS = "positions.npy"
RESULT = "result.json"


@dataclass(frozen=True)
class SearchSettings:
    """Everything one run depends on besides the maze and the seed (see the module docstring)."""

    objective_weight: float           # w: 0 = novelty search, 1 = objective search
    population: int = 250
    max_evaluations: int = 250_000
    timesteps: int = 400
    k: int = 15
    archive_threshold: float = 6.0    # ρ_min at the start, maze units
    archive_window: int = 2500
    archive_size: int = 5000
    species_target: int = 12
    compat_threshold: float = 3.0
    survival: float = 0.4
    initial_density: float = 1.0
    mutation: MutationRates = field(default_factory=MutationRates)
    checkpoint_every: int = 10

    def as_dict(self) -> dict:
        return asdict(self)


def _normalise(v: np.ndarray) -> np.ndarray:
    lo, hi = float(v.min()), float(v.max())
    return np.full_like(v, 0.5) if hi - lo <= 1e-12 else (v - lo) / (hi - lo)


@dataclass
class RunState:
    """A run between two generations: what state.json holds (positions.npy holds `positions`)."""

    generation: int
    evaluations: int
    genomes: list[Genome]
    innovations: Innovations
    archive: Archive
    representatives: list[Genome]
    compat_threshold: float
    rng: np.random.Generator
    history: list[dict]
    positions: list[np.ndarray]
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"generation": self.generation, "evaluations": self.evaluations,
                "genomes": [g.state() for g in self.genomes], "innovations": self.innovations.state(),
                "archive": self.archive.state(), "representatives": [g.state() for g in self.representatives],
                "compat_threshold": self.compat_threshold, "rng": self.rng.bit_generator.state,
                "history": self.history, "seconds": self.seconds}

    @classmethod
    def from_json(cls, d: dict, positions: np.ndarray) -> "RunState":
        rng = np.random.default_rng()
        rng.bit_generator.state = d["rng"]
        n = d["evaluations"]
        return cls(d["generation"], n, [Genome.from_state(g) for g in d["genomes"]],
                   Innovations.from_state(d["innovations"]), Archive.from_state(d["archive"]),
                   [Genome.from_state(g) for g in d["representatives"]], d["compat_threshold"], rng,
                   d["history"], [positions[:n]], d["seconds"])


def _fresh(s: SearchSettings, seed: int) -> RunState:
    rng = np.random.default_rng(seed)
    innov = Innovations(N_INPUTS, N_OUTPUTS)
    genomes = [initial_genome(innov, rng, s.initial_density) for _ in range(s.population)]
    archive = Archive(s.archive_threshold, window=s.archive_window, max_size=s.archive_size)
    return RunState(0, 0, genomes, innov, archive, [], s.compat_threshold, rng, [], [])


def _positions_bytes(parts: list[np.ndarray]) -> bytes:
    buf = _io.BytesIO()
    arr = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 2), np.float32)
    np.save(buf, arr)
    return buf.getvalue()


def _save(out: Path, st: RunState) -> None:
    io.write_bytes(out / POSITIONS, _positions_bytes(st.positions))
    io.write_text(out / STATE, json.dumps(st.to_json()))


def _load(out: Path) -> RunState | None:
    if not (out / STATE).is_file():
        return None
    d = io.read_json(out / STATE)
    return RunState.from_json(d, np.load(out / POSITIONS))


def _reproduce(s: SearchSettings, st: RunState, score: np.ndarray) -> None:
    members = speciate(st.genomes, st.representatives, st.compat_threshold)
    st.compat_threshold = adjust_threshold(st.compat_threshold, len(members), s.species_target)
    counts = allot(np.array([score[m].mean() for m in members]), s.population)
    children: list[Genome] = []
    reps: list[Genome] = []
    for m, n in zip(members, counts):
        ranked = sorted(m, key=lambda i: (-score[i], i))
        reps.append(st.genomes[ranked[int(st.rng.integers(len(ranked)))]])
        if n == 0:
            continue
        elite = 1 if len(ranked) >= 5 else 0
        children.extend(st.genomes[ranked[0]].copy() for _ in range(min(elite, n)))
        parents = ranked[:max(1, math.ceil(s.survival * len(ranked)))]
        for _ in range(n - min(elite, n)):
            a = parents[int(st.rng.integers(len(parents)))]
            if len(parents) > 1 and st.rng.random() < s.mutation.crossover:
                b = parents[int(st.rng.integers(len(parents)))]
                fit, other = (a, b) if (score[a], -a) >= (score[b], -b) else (b, a)
                child = crossover(st.genomes[fit], st.genomes[other], st.rng)
                # NEAT's "mate only" share: a fifth of the crossovers go unmutated
                children.append(child if st.rng.random() < 0.2 else mutate(child, st.rng, st.innovations, s.mutation))
            else:
                children.append(mutate(st.genomes[a], st.rng, st.innovations, s.mutation))
    st.genomes = children
    st.representatives = reps


def run_search(s: SearchSettings, maze: Maze, seed: int, out: Path, *, on_generation=None) -> dict:
    """Run (or resume from ``out/state.json``) one search; return and write ``out/result.json``."""
    out = Path(out)
    if (out / RESULT).is_file():
        return io.read_json(out / RESULT)
    st = _load(out) or _fresh(s, seed)
    diag = maze.diagonal
    goal = np.asarray(maze.goal)
    winner = None
    while True:
        t0 = time.perf_counter()
        ep = simulate(st.genomes, maze, s.timesteps)
        behaviour = ep.final
        dist = np.sqrt(((behaviour - goal) ** 2).sum(1))
        fitness = np.clip(1.0 - dist / diag, 0.0, 1.0)
        novelty = knn_novelty(behaviour, st.archive.points, s.k)
        st.archive.update(behaviour, novelty)
        score = (1.0 - s.objective_weight) * _normalise(novelty) + s.objective_weight * _normalise(fitness)
        st.positions.append(behaviour.astype(np.float32))
        solvers = np.flatnonzero(ep.solved)
        conns = np.array([g.n_connections for g in st.genomes])
        hidden = np.array([len(g.hidden) for g in st.genomes])
        row = {"generation": st.generation, "evaluations": st.evaluations + len(st.genomes),
               "best_distance": float(dist.min()), "mean_distance": float(dist.mean()),
               "connections_mean": float(conns.mean()), "connections_max": int(conns.max()),
               "connections_best": int(conns[int(np.argmax(score))]), "hidden_mean": float(hidden.mean()),
               "archive": len(st.archive), "threshold": st.archive.threshold,
               "species": len(st.representatives), "solved": int(len(solvers))}
        if len(solvers):
            first = int(solvers[0])
            winner = st.genomes[first]
            solved_eval = st.evaluations + first + 1
        st.evaluations += len(st.genomes)
        st.history.append(row)
        done = winner is not None or st.evaluations + s.population > s.max_evaluations
        if not done:
            _reproduce(s, st, score)
        st.generation += 1
        st.seconds += time.perf_counter() - t0
        if on_generation is not None:
            on_generation(row)
        if done:
            break
        if st.generation % s.checkpoint_every == 0:
            _save(out, st)
    # state.json stays at the last checkpoint (a resumable point between generations); the positions
    # file holds every evaluation (a resume reads only the checkpoint's share of it)
    io.write_bytes(out / POSITIONS, _positions_bytes(st.positions))
    last = st.history[-1]
    result = {"seed": seed, "solved": winner is not None,
              "evaluations_to_solve": solved_eval if winner is not None else None,
              "evaluations": st.evaluations, "generations": st.generation,
              "best_distance": min(r["best_distance"] for r in st.history),
              "archive": len(st.archive), "threshold": st.archive.threshold,
              "connections_final_mean": last["connections_mean"], "hidden_final_mean": last["hidden_mean"],
              "winner": None if winner is None else {**winner.state(), "connections": winner.n_connections,
                                                     "hidden_nodes": len(winner.hidden)},
              "seconds": st.seconds}
    io.write_text(out / "history.jsonl", "".join(json.dumps(r) + "\n" for r in st.history))
    io.write_json(out / RESULT, result)
    return result


__all__ = ["POSITIONS", "RESULT", "STATE", "RunState", "SearchSettings", "run_search"]
