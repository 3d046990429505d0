"""SearchConfig: the typed definition behind `sparsenet search` (flags and TOML come from it)."""
from __future__ import annotations

from dataclasses import dataclass

from ...config import non_negative, option, positive
from ...errors import ConfigError
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.runtime import THREADS_HELP, check_threads

METHODS = ("novelty", "objective", "hybrid")
# --quick (the test suite's size): each of these replaces a setting left at its default
QUICK = {"maze": "quick", "population": 50, "evaluations": 3000, "timesteps": 250, "runs": 4}


def _methods_check(values) -> str | None:
    if not values:
        return "give at least one method, e.g. --methods novelty,objective"
    if len(set(values)) != len(values):
        return "each method once"
    return None


def _probability(v) -> str | None:
    return None if 0 <= v <= 1 else "must be a probability in [0, 1]"


def _k_check(v) -> str | None:
    return None if v >= 1 else ("is the number of nearest neighbours novelty averages over; give k >= 1 "
                                "(the paper: 15)")


def _population_check(v) -> str | None:
    return None if v >= 2 else "must be at least 2 (an empty or one-genome population cannot evolve)"


def _maze_check(v) -> str | None:
    return None if v.strip() else "must name a built-in maze (hard, medium, quick) or a maze file"


@dataclass(frozen=True)
class SearchConfig:
    maze: str = option("hard", help="maze: hard or medium (Lehman & Stanley 2011), quick (small, for tests), or a "
                       "maze file (TOML: start, heading, goal, walls; or the original text format)", check=_maze_check)
    methods: tuple[str, ...] = option(METHODS, help="novelty: novelty search alone; objective: distance to the goal; "
                                      "hybrid: (1 - w) novelty + w objective, w = --hybrid-weight",
                                      choices=METHODS, check=_methods_check)
    runs: int = option(20, help="independent runs per method (seeds --seed .. --seed + runs - 1)", check=positive)
    seed: int = option(0, help="the first run's seed", check=non_negative)
    population: int = option(250, help="genomes per generation (the paper: 250)", check=_population_check)
    evaluations: int = option(100_000, help="evaluation budget of every run, a multiple of --population "
                              "(a run stops at its first solution)", check=positive)
    timesteps: int = option(400, help="time steps of one episode (the paper: 400)", check=positive)
    k: int = option(15, help="novelty: neighbours averaged over (the paper: 15)", check=_k_check)
    archive_threshold: float = option(6.0, help="novelty: the archive's starting threshold ρ_min, maze units "
                                      "(the paper's code: 6)", check=positive)
    archive_window: int = option(2500, help="novelty: evaluations between ρ_min adjustments (-5%% with no addition, "
                                 "+20%% with more than four)", check=positive)
    archive_size: int = option(5000, help="novelty: archive bound; past it the most redundant entry is forgotten",
                               check=positive)
    hybrid_weight: float = option(0.5, help="hybrid: the objective's weight w in [0, 1]", check=_probability)
    species_target: int = option(12, help="speciation: the compatibility threshold moves towards this many species",
                                 check=positive)
    survival: float = option(0.4, help="fraction of each species (its best) that breeds", check=_probability)
    add_connection: float = option(0.1, help="probability an offspring gains a connection", check=_probability)
    remove_connection: float = option(0.05, help="probability an offspring loses a connection", check=_probability)
    add_node: float = option(0.03, help="probability an offspring splits a connection with a new hidden node",
                             check=_probability)
    crossover: float = option(0.7, help="probability an offspring is the crossover of two parents of its species "
                              "(NEAT's; a fifth of them go unmutated)", check=_probability)
    weight_rate: float = option(0.8, help="probability an offspring's weights are perturbed", check=_probability)
    weight_power: float = option(0.5, help="σ of a weight perturbation", check=positive)
    initial_density: float = option(1.0, help="fraction of the 22 input-output connections of the first genomes "
                                    "(1 = NEAT's minimal fully connected start)", check=_probability)
    checkpoint_every: int = option(10, help="generations between a run's checkpoints", check=positive)
    workers: int = option(0, help="runs simulated at once in separate processes (0 = one per CPU core)",
                          check=non_negative)
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    quick: bool = option(False, help="test-suite size (seconds): the quick maze, population 50, 3,000 evaluations, "
                         "250 time steps, 4 runs per method (each unless given)")
    out: str = option("runs", help=OUT_HELP.replace("NAME-<hash>", "search, search-quick, or with a hash of other settings"))
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP + " (finished runs are reused, an interrupted one goes on from its "
                          "last checkpoint; --runs and --methods may grow)")
    progress: bool = option(True, help="print one line per finished run")

    def validate(self) -> None:
        eff = quick_config_search(self)
        if eff.evaluations < eff.population:
            raise ConfigError(f"--evaluations {eff.evaluations} is less than one generation (--population "
                              f"{eff.population}); give at least {eff.population}")
        if eff.evaluations % eff.population:
            lo = eff.evaluations // eff.population * eff.population
            raise ConfigError(f"--evaluations {eff.evaluations} is not a multiple of --population {eff.population}; "
                              f"give {lo} or {lo + eff.population}")


def quick_config_search(cfg: SearchConfig) -> SearchConfig:
    """The settings a run uses: --quick replaces each of `QUICK`'s settings left at its default (the
    result has quick=False, so it is not expanded twice)."""
    from dataclasses import replace

    if not cfg.quick:
        return cfg
    default = SearchConfig()
    return replace(cfg, quick=False, **{k: v for k, v in QUICK.items() if getattr(cfg, k) == getattr(default, k)})


__all__ = ["METHODS", "QUICK", "SearchConfig", "quick_config_search"]
