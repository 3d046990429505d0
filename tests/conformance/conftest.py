"""Conformance suite: the same contract over every registered entry of every registry.

A test asks for an entry by argument name (``criterion``, ``allocation``, ``schedule``, ``model``,
``dataset``, ``backend``, ``report_kind``, ``command``, ``reproduction``) and is parametrized here,
at collection time, over that registry's ``names()`` — never a list written in a test. An entry
registered before collection (a plugin module, a new file plus its ``register`` call) is therefore
tested with no edit here; `test_registration.py` shows it.
"""
from __future__ import annotations

import importlib


def _names(module: str, registry: str, *args):
    return lambda: getattr(importlib.import_module(module), registry).names(*args)


# fixture argument -> the registry it is drawn from
REGISTRIES = {
    "criterion": _names("sparsenet.criteria", "CRITERIA"),  # the model family (prune's)
    "ticket_criterion": _names("sparsenet.criteria", "CRITERIA", "ticket"),
    "allocation": _names("sparsenet.allocation", "ALLOCATIONS"),
    "schedule": _names("sparsenet.schedules", "SCHEDULES"),
    "model": _names("sparsenet.models", "MODELS"),
    "dataset": _names("sparsenet.data.sources", "DATASETS"),
    "backend": _names("sparsenet.kernels.backends", "BACKENDS"),
    "report_kind": _names("sparsenet.report", "REPORTS"),
    "command": _names("sparsenet.cli", "COMMANDS"),
    "reproduction": _names("sparsenet.cli", "REPRODUCTIONS"),
}


def registry_names(arg: str) -> list[str]:
    """The names a test asking for `arg` is run over: the registry's, read now."""
    names = REGISTRIES[arg]()
    assert names, f"the {arg} registry is empty"
    return names


def pytest_generate_tests(metafunc):
    for arg in REGISTRIES:
        if arg in metafunc.fixturenames:
            metafunc.parametrize(arg, registry_names(arg))
