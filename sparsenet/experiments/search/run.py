"""`sparsenet search`: novelty vs objective vs hybrid search over sparse controllers in a maze,
`--runs` independent runs per method, each resumable by generation, with a report.

Run directory:

    config.json              the config ("experiment": "search")
    maze.json                the maze the runs used (walls, start, heading, goal)
    runs/<method>-s<seed>/   one run (`sparsenet.search.evolve`): state.json (every --checkpoint-every
                             generations), positions.npy (the final position of every individual
                             evaluated), history.jsonl (one line per generation), result.json (last)
    results.json             written last: settings, every run's result, the per-method summary
    report.md, *.png         `sparsenet report DIR` (sparsenet.report.search_report) rebuilds them

Runs go to `--workers` processes (numba, one thread each); a killed search continues with --resume:
finished runs are read back, interrupted ones go on from their last checkpoint.
"""
from __future__ import annotations

import os
import statistics
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from ... import io
from ...errors import ConfigError
from ...rundir import command_line, open_run, resolve
from ...search.evolve import RESULT, SearchSettings, run_search
from ...search.genome import MutationRates
from ...search.maze import Maze, load_maze, make_maze
from ...train import machine_info
from .config import SearchConfig, quick_config_search

def resolve_run_dir(cfg: SearchConfig) -> Path:
    return resolve(cfg, "search", exclude=("workers",), tags=("quick",), bare_default=True)


def run_id(method: str, seed: int) -> str:
    return f"{method}-s{seed}"


def weight(cfg: SearchConfig, method: str) -> float:
    return {"novelty": 0.0, "objective": 1.0, "hybrid": cfg.hybrid_weight}[method]


def settings(eff: SearchConfig, method: str) -> SearchSettings:
    return SearchSettings(
        objective_weight=weight(eff, method), population=eff.population, max_evaluations=eff.evaluations,
        timesteps=eff.timesteps, k=eff.k, archive_threshold=eff.archive_threshold,
        archive_window=eff.archive_window, archive_size=eff.archive_size, species_target=eff.species_target,
        survival=eff.survival, initial_density=eff.initial_density, checkpoint_every=eff.checkpoint_every,
        mutation=MutationRates(weights=eff.weight_rate, weight_power=eff.weight_power,
                               add_connection=eff.add_connection, remove_connection=eff.remove_connection,
                               add_node=eff.add_node, crossover=eff.crossover))


def _one(args) -> tuple[str, str, int, dict]:
    method, seed, s, maze, out, threads = args
    from ...train.runtime import set_threads

    set_threads(threads)
    return method, seed, run_search(s, maze, seed, Path(out))


def _line(method: str, seed: int, r: dict) -> str:
    what = (f"solved at {r['evaluations_to_solve']:,} evaluations" if r["solved"]
            else f"not solved in {r['evaluations']:,} evaluations (closest {r['best_distance']:.1f})")
    return f"{run_id(method, seed):>14}  {what}, {r['generations']} generations, {r['seconds']:.1f} s"


def run_all(cfg: SearchConfig, maze: Maze, run_dir: Path) -> dict[str, list[dict]]:
    eff = quick_config_search(cfg)
    seeds = range(eff.seed, eff.seed + eff.runs)
    todo = [(m, s, settings(eff, m), maze, str(run_dir / "runs" / run_id(m, s)))
            for s in seeds for m in eff.methods]
    workers = min(len(todo), cfg.workers or os.cpu_count() or 1)
    results: dict[str, list[dict]] = {m: [] for m in eff.methods}
    done = []
    if workers <= 1:
        from ...train.runtime import set_threads

        set_threads(cfg.threads)
        for m, s, st, mz, out in todo:
            r = run_search(st, mz, s, Path(out))
            done.append((m, s, r))
            if cfg.progress:
                print(_line(m, s, r), flush=True)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            for m, s, r in pool.map(_one, [t + (1,) for t in todo]):
                done.append((m, s, r))
                if cfg.progress:
                    print(_line(m, s, r), flush=True)
    for m, s, r in done:
        results[m].append(r)
    return results


def summary(runs: list[dict], budget: int) -> dict:
    solved = [r for r in runs if r["solved"]]
    ev = [r["evaluations_to_solve"] for r in solved]
    return {"runs": len(runs), "solved": len(solved), "success_rate": len(solved) / len(runs),
            "mean_evaluations": statistics.fmean(ev) if ev else None,
            "sd_evaluations": statistics.stdev(ev) if len(ev) > 1 else None,
            "median_evaluations": statistics.median(ev) if ev else None,
            "budget": budget,
            "winner_connections": [r["winner"]["connections"] for r in solved],
            "winner_hidden": [r["winner"]["hidden_nodes"] for r in solved],
            "best_distance_mean": statistics.fmean(r["best_distance"] for r in runs),
            "seconds": sum(r["seconds"] for r in runs)}


def run_search_experiment(cfg: SearchConfig, *, command: str | None = None) -> dict:
    """Run (or finish) every run of every method; returns the results written to results.json."""
    eff = quick_config_search(cfg)
    maze = load_maze(eff.maze)  # a bad maze file fails before the run directory is made
    run_dir = resolve_run_dir(cfg)
    # more runs or methods may be added on --resume: every run is its own directory, the summary is redone
    with open_run(run_dir, cfg, "search", command=command or command_line(),
                  may_change=lambda key: key in ("workers", "runs", "methods")) as rd:
        if rd.finished and rd.same:
            return io.read_json(run_dir / "results.json")
        recorded = run_dir / "maze.json"
        if recorded.is_file():
            old = io.read_json(recorded)
            if old != maze.as_dict():
                raise ConfigError(f"{eff.maze}: the maze file changed since this search started ({recorded}); "
                                  "restore it or start a new --run-dir")
        else:
            io.write_json(recorded, maze.as_dict())
        maze = make_maze(maze.name, walls=maze.walls, start=maze.start, goal=maze.goal, heading=maze.heading)
        runs = run_all(cfg, maze, run_dir)
        results = {
            "experiment": "search", "maze": maze.as_dict(), "maze_key": eff.maze,
            "methods": {m: {"objective_weight": weight(eff, m)} for m in eff.methods},
            "seeds": list(range(eff.seed, eff.seed + eff.runs)),
            "settings": settings(eff, eff.methods[0]).as_dict() | {"objective_weight": None},
            "runs": {m: [dict(r, winner=None if r["winner"] is None else
                              {k: r["winner"][k] for k in ("connections", "hidden_nodes")}) for r in rs]
                     for m, rs in runs.items()},
            "summary": {m: summary(rs, eff.evaluations) for m, rs in runs.items()},
            "machine": machine_info("cpu"), "command": command or command_line(),
        }
        io.write_json(run_dir / "results.json", results)
        return results


def run_file(run_dir: Path, method: str, seed: int, name: str = RESULT) -> Path:
    return Path(run_dir) / "runs" / run_id(method, seed) / name


__all__ = ["resolve_run_dir", "run_file", "run_id", "run_search_experiment", "settings", "summary", "weight"]
