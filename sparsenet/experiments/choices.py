"""Choices of config options, read from the registries when validating or showing --help.

Each is a callable for ``option(choices=...)``: a name registered later (a new dataset, model,
activation or criterion) is then a valid choice of every command without editing a config. The
imports are lazy so that importing a config module stays cheap.
"""
from __future__ import annotations


def datasets() -> list[str]:
    """Registered dataset names (`sparsenet.data`)."""
    from ..data import dataset_names

    return dataset_names()


def models() -> list[str]:
    """Registered model names (`sparsenet.models`)."""
    from ..models import model_names

    return model_names()


def activations() -> list[str]:
    """Registered hidden activations (`sparsenet.models.activations`)."""
    from ..models.activations import activation_names

    return activation_names()


def optimizers() -> list[str]:
    """Registered optimizers (`sparsenet.train.optimizers`)."""
    from ..train.optimizers import OPTIMIZERS

    return OPTIMIZERS.names()


def allocations() -> list[str]:
    """Registered allocations, plus ``spectral`` (neurons per layer from the activation spectrum)."""
    from ..allocation import ALLOCATIONS

    return ALLOCATIONS.names() + ["spectral"]


def schedules() -> list[str]:
    """Registered pruning schedules."""
    from ..schedules import SCHEDULES

    return SCHEDULES.names()


def scopes() -> list[str]:
    """Selection scopes of `sparsenet.prune.prune`: per layer or one global ranking."""
    from ..prune.api import SCOPES

    return list(SCOPES)


def structures() -> list[str]:
    """What `sparsenet.prune.prune` removes: weights, neurons or channels."""
    from ..prune.structure import STRUCTURES

    return list(STRUCTURES)


def ticket_criteria() -> list[str]:
    """The ticket family of the criterion registry (Zhou et al.'s mask criteria)."""
    from ..criteria import CRITERIA

    return CRITERIA.names("ticket")


def ticket_criterion_check(value) -> str | None:
    """One line for a name outside the ticket family: a renamed one's new name, or where it belongs."""
    from ..criteria import get_criterion
    from ..errors import ConfigError

    for v in value if isinstance(value, tuple) else (value,):
        try:
            get_criterion(v, family="ticket")
        except ConfigError as e:
            return str(e)
    return None


# The same help for the same data flag on every command (like rundir's OUT_HELP).
DATA_DIR_HELP = "directory holding the dataset files (else the dataset's env var, then its standard location)"
DATA_SEED_HELP = ("seed of a generated dataset (mnist1d, synthetic), apart from --seed so seeds vary the init and data "
                  "order on the same data; none = the generator's default: 42 for mnist1d (the mnist1d package's, as "
                  "in its published results), 0 for synthetic")


__all__ = ["DATA_DIR_HELP", "DATA_SEED_HELP", "activations", "allocations", "datasets", "models", "optimizers", "schedules", "scopes", "structures", "ticket_criteria",
           "ticket_criterion_check"]
