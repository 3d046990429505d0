"""The command registry: each experiment package registers its `sparsenet` command(s) and
reproductions in its own `command.py`; adding an experiment edits no table here or in `sparsenet/cli.py`.

`discover()` imports `sparsenet.experiments.<package>.command` for every subpackage that has one,
the first time a registry is read. Package `__init__`s and command modules stay light (the heavy
imports sit inside the command's functions), so `sparsenet --help` builds every parser cheaply.
"""
from __future__ import annotations

import argparse
import importlib
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


def discover() -> list[str]:
    """Import every experiment package's `command` module (a module already imported is not run
    again, so this is idempotent); return their names."""
    return import_modules(__package__, in_subpackages="command")


COMMANDS: Registry[Command] = Registry("command", discover=discover)
# name -> (factory, help); factory() -> (config class, run, run dir of a config)
REPRODUCTIONS: Registry[tuple] = Registry("reproduction", discover=discover)


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


__all__ = ["COMMANDS", "Command", "REPRODUCTIONS", "config_flags", "discover", "lazy_exports"]
