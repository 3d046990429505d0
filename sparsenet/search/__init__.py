"""Neuroevolution of sparse controllers: NEAT-style genomes (live connection lists grown and pruned by
mutation), novelty search with an archive, objective and hybrid selection, and the maze navigation
domain of Lehman & Stanley (2011). `sparsenet search` (sparsenet.experiments.search) runs it."""
from .episode import Episodes, simulate
from .evolve import SearchSettings, run_search
from .genome import Genome, Innovations, MutationRates, check_genome, initial_genome, mutate
from .maze import Maze, load_maze, make_maze, maze_names
from .novelty import Archive, knn_novelty

__all__ = ["Archive", "Episodes", "Genome", "Innovations", "Maze", "MutationRates", "SearchSettings", "check_genome",
           "initial_genome", "knn_novelty", "load_maze", "make_maze", "maze_names", "mutate", "run_search", "simulate"]
