"""Typed, frozen configs: one dataclass per command gives both its CLI flags and its TOML format.

>>> import argparse
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class DemoConfig:
...     lr: float = option(0.01, help="learning rate", check=positive)
...     widths: tuple[int, ...] = option((16, 32), help="hidden widths", check=all_positive)
...     resume: bool = option(False, help="resume from the last checkpoint")
>>> parser = argparse.ArgumentParser()
>>> add_arguments(parser, DemoConfig)
>>> build_config(DemoConfig, parser.parse_args(["--widths", "8,8", "--resume"]))
DemoConfig(lr=0.01, widths=(8, 8), resume=True)
>>> build_config(DemoConfig, parser.parse_args(["--lr", "0"]))
Traceback (most recent call last):
...
sparsenet.errors.ConfigError: invalid --lr 0: must be > 0
>>> run_name("demo", DemoConfig(resume=True))  # resume does not change results
'demo-default'

Flags: ``data_dir`` -> ``--data-dir``; bool -> ``--resume/--no-resume``; tuples take
``--widths 16,32,64``, ``--widths 16 32 64`` or ``--widths 16 --widths 32`` (``--widths ""`` is the
empty tuple); an optional field (``X | None``) takes ``none``. Flags default to
``argparse.SUPPRESS``, so a flag the user did not type never hides a value from the TOML file.

Precedence, lowest first: field defaults < ``toml_path=`` < ``--config FILE.toml`` < flags given
on the command line < ``overrides=``.

TOML layout: the keys sit at top level, or under a table named like the command (``[train]`` for
``TrainConfig``; ``section=`` picks another). When the file has that table, its keys win over the
top-level ones and every other table is ignored (it belongs to another command), so one recipe can
hold ``[train]`` and ``[prune]``. A file with tables but none for this command is refused in one
line that names the command each table belongs to (``recipes/x.toml has a [prune] table but no
[train] table: run `sparsenet prune --config recipes/x.toml` ...``); a table named for no command
is refused as a typo, matched against the table names (``[trian]``: did you mean ``[train]``?),
and beside the command's own table only when it is close to one. The table names and their
commands are recorded by `add_arguments` (the CLI builds every command's parser before parsing).
TOML has no null: write ``"none"`` for None (as on the CLI).

Run names: ``run_name("train", cfg)`` is ``train-`` + `config_hash` (8 hex digits of the sorted JSON
of the non-default values, leaving out the `HASH_EXCLUDE` keys such as ``resume``, ``out`` and
``progress`` that do not change what is computed), or ``train-default`` when every hashed value is
the default.

Values are validated by `build_config` and `config_from_dict`; constructing the dataclass directly
checks nothing (``config_from_dict(cls, config_to_dict(cfg))`` validates an instance).

Modules: `declare` (`option`, the field descriptions read from a dataclass), `cli_args`
(`add_arguments`), `convert` (converting and checking values, building the dataclass), `toml_io`
(`load_toml`, `dump_toml`, the TOML tables and `section_name`), `build` (`build_config`,
`config_from_dict`), `hashing` (`config_to_dict`, `non_default_items`, `config_hash`, `run_name`,
`HASH_EXCLUDE`), `checks` (`positive`, `non_negative`, ...), `literals` (how values are spelled on
the command line and in TOML). Import them all from `sparsenet.config`.
"""
from __future__ import annotations

from .build import build_config, config_from_dict
from .checks import all_positive, in_unit_interval_open_right, non_negative, positive, probability_open
from .cli_args import _Help, _help_text, _metavar, add_arguments  # noqa: F401
from .convert import (  # noqa: F401
    _PLURAL, _WORD, _apply, _Bad, _construct, _convert, _expected, _problem, _resolve, _scalar,
)
from .declare import _META, MISSING, _analyse, _choices, _Meta, _Opt, _options, option  # noqa: F401
from .hashing import HASH_EXCLUDE, _jsonable, config_hash, config_to_dict, non_default_items, run_name  # noqa: F401
from .literals import _literal, _text  # noqa: F401
from .toml_io import _TABLES, _for, _select, dump_toml, load_toml, section_name, tomllib  # noqa: F401

__all__ = [
    "HASH_EXCLUDE", "add_arguments", "all_positive", "build_config", "config_from_dict",
    "config_hash", "config_to_dict", "dump_toml", "in_unit_interval_open_right", "load_toml",
    "non_default_items", "non_negative", "option", "positive", "probability_open", "run_name",
    "section_name",
]
