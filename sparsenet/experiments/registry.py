"""The command registry: each experiment package registers its `sparsenet` command(s) and
reproductions in its own `command.py`; adding an experiment edits no table here or in `sparsenet/cli.py`.

`discover()` imports `sparsenet.experiments.<package>.command` for every subpackage that has one,
the first time a registry is read. Package `__init__`s and command modules stay light (the heavy
imports sit inside the command's functions), so `sparsenet --help` builds every parser cheaply.
"""
from __future__ import annotations

import argparse
import importlib
import os
from dataclasses import dataclass
from typing import Any, Callable

from ..registry import Registry, import_modules


@dataclass(frozen=True)
class Command:
    """A `sparsenet <name>` subcommand: its one-line help (a string, or a function that gives it when
    the parser is built), `setup(parser)` adding its flags, `run(args)` returning an exit status or None."""

    help: str | Callable[[], str]
    setup: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]

    def help_text(self) -> str:
        return self.help() if callable(self.help) else self.help


def config_flags(module: str, cls: str) -> Callable[[argparse.ArgumentParser], None]:
    """The `setup` of a command whose flags are one config dataclass, `module.cls` (imported only
    when its parser is built)."""

    def setup(parser: argparse.ArgumentParser) -> None:
        from ..config import add_arguments

        add_arguments(parser, getattr(importlib.import_module(module), cls))

    return setup


PLUGINS_ENV = "SPARSENET_PLUGINS"


def discover() -> list[str]:
    """Import every experiment package's `command` module (a module already imported is not run
    again, so this is idempotent), then the modules named in $SPARSENET_PLUGINS (comma-separated:
    your own experiments, registered in `EXPERIMENTS`; sweep trial processes and Ray workers get
    the variable too); return their names."""
    names = import_modules(__package__, in_subpackages="command")
    for module in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as e:
            from ..errors import ConfigError

            raise ConfigError(f"cannot import {module!r} named in ${PLUGINS_ENV}: {e}; fix the module name "
                              "or PYTHONPATH") from None
        names.append(module)
    return names


COMMANDS: Registry[Command] = Registry("command", discover=discover)
# name -> (factory, help); factory() -> (config class, run, run dir of a config)
REPRODUCTIONS: Registry[tuple] = Registry("reproduction", discover=discover)
# The commands that write one run directory from one config, for `sparsenet sweep`:
# name -> factory; factory() -> (config class, run(cfg) -> results, run dir of a config)
EXPERIMENTS: Registry[Callable[[], tuple]] = Registry("experiment", discover=discover)


def experiment_kinds() -> list[str]:
    """Every experiment a sweep can run: the commands in `EXPERIMENTS` and the reproductions."""
    return sorted(set(EXPERIMENTS.names()) | set(REPRODUCTIONS.names()))


def experiment(kind: str) -> tuple:
    """(config class, run, run dir of a config) of `kind`, a command or a reproduction name."""
    if kind in EXPERIMENTS:
        return EXPERIMENTS.get(kind)()
    if kind in REPRODUCTIONS:
        return REPRODUCTIONS.get(kind)[0]()
    from ..errors import ConfigError

    raise ConfigError(f"unknown experiment {kind!r}; valid experiments: {', '.join(experiment_kinds())}")


def lazy_exports(package: str, exports: dict[str, list[str]]) -> tuple[Callable[[str], Any], list[str]]:
    """`(__getattr__, __all__)` for an experiment package whose public names live in its submodules
    (`{"run": ["run_train"], ...}`): `from sparsenet.experiments.train import run_train` works, and
    importing the package (as command discovery does) imports none of them."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{where[name]}"), name)

    return __getattr__, sorted(where)


__all__ = ["COMMANDS", "Command", "EXPERIMENTS", "REPRODUCTIONS", "config_flags", "discover", "experiment",
           "experiment_kinds", "lazy_exports"]
