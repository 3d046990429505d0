"""Command-line flags: `add_arguments` adds `--config FILE.toml` and one flag per config field."""
from __future__ import annotations

import argparse
import functools
from typing import Callable

from .declare import MISSING, _choices, _Opt, _options
from .literals import _text
from .toml_io import _TABLES, section_name


class _Help(str):
    """Help text rendered when --help is shown, so that lazily filled choices are complete.

    argparse renders help as `action.help % params`; the str value is the text as it was when
    the flag was added, used by any formatter that does not go through `%`.
    """

    def __new__(cls, render: Callable[[], str]):
        self = super().__new__(cls, render())
        self.render = render
        return self

    def __mod__(self, params):
        return self.render()


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """Add `--config FILE.toml` and one flag per field of `cls` (see the `sparsenet.config` docstring)."""
    _TABLES[section_name(cls)] = parser.prog
    parser.add_argument("--config", metavar="FILE.toml", default=None,
                        help="read options from a TOML file; flags given here override it")
    for o in _options(cls):
        if not o.meta.cli:
            continue
        kw = dict(dest=o.name, default=argparse.SUPPRESS,
                  help=_Help(functools.partial(_help_text, o)))
        if o.base is bool and not o.many:
            parser.add_argument(o.flag, action=argparse.BooleanOptionalAction, **kw)
        elif o.many:
            parser.add_argument(o.flag, nargs="+", action="extend", metavar=_metavar(o), **kw)
        else:
            parser.add_argument(o.flag, metavar=_metavar(o), **kw)


def _metavar(o: _Opt) -> str:
    if o.meta.metavar:
        return o.meta.metavar
    if o.literal is not None or (o.meta.choices is not None and not callable(o.meta.choices)):
        return "{" + ",".join(_text(c) for c in _choices(o)) + "}"
    return {int: "INT", float: "FLOAT", str: "STR"}.get(o.base, "NAME")


def _help_text(o: _Opt) -> str:
    parts = [" ".join(o.meta.help.split())] if o.meta.help else []
    if callable(o.meta.choices):  # static choices are already in the metavar
        parts.append(f"(choices: {', '.join(_text(c) for c in _choices(o))})")
    parts.append("(required)" if o.default is MISSING else f"(default: {_text(o.default)})")
    return " ".join(parts)
