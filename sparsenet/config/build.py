"""Building a config: defaults < TOML files < flags given on the command line < overrides."""
from __future__ import annotations

import argparse
from typing import Any

from .convert import _apply, _construct, _resolve
from .declare import _options
from .toml_io import _select, load_toml, section_name


def build_config(cls, args: argparse.Namespace | None = None, *, toml_path=None,
                 overrides: dict | None = None, section: str | None = None):
    """Defaults < `toml_path` < `args.config` < flags present in `args` < `overrides`.

    `args` comes from a parser filled by `add_arguments`: a field is taken from it only when its
    flag was given. `section` is the TOML table to read (default: `section_name(cls)`).
    """
    section = section or section_name(cls)
    values: dict[str, Any] = {}
    for path in (toml_path, getattr(args, "config", None)):
        if path is not None:
            _apply(cls, _select(load_toml(path), section, str(path)), str(path), values, section)
    if args is not None:
        given = vars(args)
        for o in _options(cls):
            if o.meta.cli and o.name in given:
                values[o.name] = _resolve(o, given[o.name], cli=True)
    if overrides:
        _apply(cls, overrides, None, values)
    return _construct(cls, values)


def config_from_dict(cls, d: dict, *, source: str | None = None):
    """Inverse of `config_to_dict`, with the same validation as a TOML file (`source` names it)."""
    values: dict[str, Any] = {}
    _apply(cls, d, source, values)
    return _construct(cls, values)
