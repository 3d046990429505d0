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
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import difflib
import functools
import hashlib
import json
import types
import typing
from typing import Any, Callable, Literal, Sequence, Union

from .errors import ConfigError, SparsenetError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser is on PyPI as `tomli`
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

MISSING = dataclasses.MISSING
# Keys that say where a run's files go or what it shows, never what it computes: left out of
# `config_hash`. Each exists in at least one command's config (a test checks it). `threads` is
# not here: torch's CPU kernels are not bit-identical across thread counts (30 Adam steps of
# LeNet-300-100 at batch 60 differ by 2e-5 between 1 and 2 threads), so it changes results.
HASH_EXCLUDE = ("resume", "out", "run_dir", "data_dir", "progress", "report", "figure")
_META = "sparsenet.option"
# TOML table name -> the command that reads it ("prune" -> "sparsenet prune"), recorded by
# `add_arguments` so that a recipe meant for another command is named with its command.
_TABLES: dict[str, str] = {}


# ---------------------------------------------------------------------------------- declaring
@dataclasses.dataclass(frozen=True)
class _Meta:
    help: str = ""
    choices: Sequence | Callable[[], Sequence] | None = None
    check: Callable[[Any], str | None] | None = None
    cli: bool = True
    metavar: str | None = None


def option(default: Any = MISSING, *, help: str, choices=None, check=None, cli: bool = True,
           metavar: str | None = None) -> Any:
    """A dataclass field with its help text and validation.

    `choices`: a sequence, or a callable returning one (evaluated when validating and when --help
    is shown, so registries may be filled after the parser is built). `check(value)` returns an
    error text such as "must be > 0" (or raises ValueError); it is not called for None.
    `cli=False` leaves the field out of the flags (TOML and overrides can still set it).
    """
    meta = {_META: _Meta(help, choices, check, cli, metavar)}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=functools.partial(copy.deepcopy, default),
                                 metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class _Opt:
    name: str
    base: type | None  # bool, int, float or str (the element type for tuples); None for Literal
    literal: tuple | None  # the values of a Literal[...]
    many: bool  # tuple[base, ...]
    optional: bool  # X | None
    default: Any  # MISSING when required
    meta: _Meta

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@functools.lru_cache(maxsize=None)
def _options(cls) -> tuple[_Opt, ...]:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not cls.__dataclass_params__.frozen:
        raise TypeError(f"{cls.__name__} must be declared @dataclass(frozen=True)")
    hints = typing.get_type_hints(cls)
    opts = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name == "config":
            raise TypeError(f"{cls.__name__}.config: the name is taken by --config FILE.toml")
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        opts.append(_Opt(f.name, *_analyse(cls, f.name, hints[f.name]), default,
                         f.metadata.get(_META, _Meta())))
    return tuple(opts)


def _analyse(cls, name, tp):
    optional = False
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = typing.get_args(tp)
        if len(args) == 2 and type(None) in args:
            optional, tp = True, next(a for a in args if a is not type(None))
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in (bool, int, float, str):
        return tp, None, False, optional
    if origin is Literal:
        return None, args, False, optional
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis and args[0] in (int, float, str):
        return args[0], None, True, optional
    raise TypeError(f"{cls.__name__}.{name}: unsupported type {tp!r}; use bool, int, float, str, "
                    "Literal[...], tuple[int | float | str, ...], or one of these | None")


# ------------------------------------------------------------------------------ CLI
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
    """Add `--config FILE.toml` and one flag per field of `cls` (see the module docstring)."""
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


def _choices(o: _Opt) -> list | None:
    if o.literal is not None:
        return list(o.literal)
    c = o.meta.choices
    return None if c is None else list(c() if callable(c) else c)


# ----------------------------------------------------------------------- converting values
class _Bad(Exception):
    """A value of the wrong type; the message, if any, says which entry."""


_WORD = {bool: "a boolean (true/false)", int: "an integer", float: "a float", str: "a string"}
_PLURAL = {int: "integers", float: "floats", str: "strings"}


def _expected(o: _Opt) -> str:
    if o.literal is not None:
        word = "one of " + ", ".join(_text(v) for v in o.literal)
    else:
        word = f"a list of {_PLURAL[o.base]}" if o.many else _WORD[o.base]
    return word + " or none" if o.optional else word


def _scalar(tp: type, x: Any, cli: bool) -> Any:
    if cli and isinstance(x, str) and tp in (int, float):
        try:
            return tp(x.strip())
        except ValueError:
            raise _Bad() from None
    if isinstance(x, bool) and tp is not bool:  # bool is an int in Python, never in a config
        raise _Bad()
    if tp is float and isinstance(x, int):  # ints are fine where a float is expected
        return float(x)
    if not isinstance(x, tp):
        raise _Bad()
    return x


def _convert(o: _Opt, raw: Any, cli: bool) -> Any:
    """`raw` (a string from a flag when `cli`, else a TOML/JSON/Python value) -> typed value."""
    if o.optional and (raw is None or (isinstance(raw, str) and raw.strip().lower() == "none")):
        return None
    if o.many:
        if cli and isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            text = ",".join(raw)  # --widths 16,32 / --widths 16 32 / --widths 16 --widths 32
            if o.optional and text.strip().lower() == "none":
                return None
            raw = [p.strip() for p in text.split(",")] if text.strip() else []
            if "" in raw:
                raise _Bad("empty entry")
        if not isinstance(raw, (list, tuple)):
            raise _Bad()
        items = []
        for x in raw:
            try:
                items.append(_scalar(o.base, x, cli))
            except _Bad:
                raise _Bad(f"{x if cli else _literal(x)} is not {_WORD[o.base]}") from None
        return tuple(items)
    if o.literal is not None:
        for v in o.literal:
            if (type(raw) is type(v) and raw == v) or (cli and isinstance(raw, str) and raw == _text(v)):
                return v
        raise _Bad()
    return _scalar(o.base, raw, cli)


def _problem(o: _Opt, value: Any) -> str | None:
    """What is wrong with a well-typed value: a choice outside the valid ones, a failed check."""
    if value is None:
        return None
    if o.meta.choices is not None:
        valid = _choices(o)
        bad = [x for x in (value if o.many else (value,)) if x not in valid]
        if bad and o.meta.check is not None:  # the check may say more (e.g. a renamed choice's new name)
            try:
                said = o.meta.check(value) or None
            except (ValueError, TypeError) as e:
                said = str(e) or type(e).__name__
            if said:
                return said
        if bad:
            head = f"{_text(bad[0])} is not a valid choice; " if o.many else ""
            return f"{head}must be one of {', '.join(_text(c) for c in valid)}"
    if o.meta.check is not None:
        try:
            return o.meta.check(value) or None
        except (ValueError, TypeError) as e:
            return str(e) or type(e).__name__
    return None


def _resolve(o: _Opt, raw: Any, *, cli: bool = False, source: str | None = None) -> Any:
    if source is not None:
        where = f"{o.name} = {_literal(raw)} in {source}"
    elif cli and isinstance(raw, (str, list)):
        where = f"{o.flag} {raw if isinstance(raw, str) else ' '.join(map(str, raw))}"
    else:
        where = f"{o.flag} {_text(raw)}"
    try:
        value = _convert(o, raw, cli)
    except _Bad as e:
        detail = f" ({e})" if str(e) else ""
        raise ConfigError(f"invalid {where}: expected {_expected(o)}{detail}") from None
    problem = _problem(o, value)
    if problem:
        raise ConfigError(f"invalid {where}: {problem}")
    return value


def _apply(cls, data: dict, source: str | None, values: dict, section: str | None = None) -> None:
    """Validate `data` (TOML table, JSON dict or overrides) into `values`."""
    opts = {o.name: o for o in _options(cls)}
    for key, raw in data.items():
        if key not in opts:
            close = difflib.get_close_matches(key, list(opts), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            place = f" in {source}" if source else ""
            table = f"; the keys sit at top level or under [{section}]" if section else ""
            raise ConfigError(f"unknown key {key!r}{place}{hint}{table}; "
                              f"valid keys: {', '.join(opts)}")
        values[key] = _resolve(opts[key], raw, source=source)


def _construct(cls, values: dict):
    missing = [o.flag for o in _options(cls) if o.default is MISSING and o.name not in values]
    if missing:
        raise ConfigError(f"missing required option {', '.join(missing)}: give the flag or set "
                          "the key in the TOML file")
    try:
        cfg = cls(**values)
        hook = getattr(cfg, "validate", None)
        problem = hook() if callable(hook) else None
    except SparsenetError:
        raise
    except ValueError as e:  # a __post_init__ or validate() that raised a plain ValueError
        raise ConfigError(str(e)) from e
    if isinstance(problem, str) and problem:
        raise ConfigError(problem)
    return cfg


# --------------------------------------------------------------------------- building
def section_name(cls) -> str:
    """The TOML table a command's keys may sit under: TrainConfig -> "train"."""
    name = cls.__name__.removesuffix("Config") or cls.__name__
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def load_toml(path) -> dict:
    """Parse a TOML file; a missing, unreadable or malformed file is a one-line ConfigError."""
    if tomllib is None:
        raise ConfigError(f"cannot read {path}: reading TOML needs Python >= 3.11 or `pip install tomli`")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        msg = " ".join(str(e).split())
        raise ConfigError(f"malformed TOML in config file {path}: {msg}") from None


def _for(table: str) -> str:
    """`[prune] (sparsenet prune)`, or `[prune]` when no parser for it was built."""
    return f"[{table}] ({_TABLES[table]})" if table in _TABLES else f"[{table}]"


def _select(data: dict, section: str, source: str) -> dict:
    """The keys for the command of `section`: top-level keys, overridden by its table's.

    Every table (a dict value) names a command. Without the command's own table, a table of
    another command means the file is for that command, and an unknown table name is a typo:
    both are one-line errors, the latter matched against the known table names.
    """
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = [k for k, v in data.items() if isinstance(v, dict)]
    known = sorted(set(_TABLES) | {section})
    close = {t: difflib.get_close_matches(t, known, n=1, cutoff=0.6) for t in tables if t not in known}
    # Beside the command's own table, other tables are ignored, unless one looks like a typo.
    unknown = [t for t in close if section not in tables or close[t]]
    if unknown:
        hint = f" (did you mean [{close[unknown[0]][0]}]?)" if close[unknown[0]] else ""
        raise ConfigError(f"unknown table [{unknown[0]}] in {source}{hint}; a table is named for the "
                          f"command it configures: {', '.join(_for(t) for t in known)}")
    if section in tables:
        return {**top, **data[section]}
    if tables:
        which = " and ".join(f"[{t}]" for t in tables)
        noun = "table" if len(tables) == 1 else "tables"
        runs = [f"`{_TABLES[t]} --config {source}`" for t in tables if t in _TABLES]
        run = f"run {' or '.join(runs)}, or " if runs else ""
        raise ConfigError(f"{source} has a {which} {noun} but no [{section}] table: {run}put the keys "
                          f"for this command under [{section}]")
    return top


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


# ------------------------------------------------------------------------- writing
def config_to_dict(cfg) -> dict:
    """All fields in declaration order, JSON-safe (tuples become lists)."""
    return {o.name: _jsonable(getattr(cfg, o.name)) for o in _options(type(cfg))}


def non_default_items(cfg) -> dict:
    """The fields whose value differs from the declared default (required fields always)."""
    return {o.name: getattr(cfg, o.name) for o in _options(type(cfg))
            if o.default is MISSING or getattr(cfg, o.name) != o.default}


def config_hash(cfg, exclude: Sequence[str] = HASH_EXCLUDE) -> str:
    """8 hex digits: sha256 of the sorted, compact JSON of the non-default items not in `exclude`."""
    items = {k: _jsonable(v) for k, v in non_default_items(cfg).items() if k not in exclude}
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def run_name(prefix: str, cfg, exclude: Sequence[str] = HASH_EXCLUDE) -> str:
    """`prefix-<config_hash>`, or `prefix-default` when no hashed field differs from its default."""
    if not any(k not in exclude for k in non_default_items(cfg)):
        return f"{prefix}-default"
    return f"{prefix}-{config_hash(cfg, exclude)}"


def dump_toml(cfg) -> str:
    """Every field as `key = value` (help as a comment), readable back with `--config`.

    A None whose default is None is left out with a comment; a None that overrides another
    default is written as "none".
    """
    lines = [f"# {type(cfg).__name__}: re-run with --config FILE.toml"]
    for o in _options(type(cfg)):
        value = getattr(cfg, o.name)
        if o.meta.help:
            lines.append("# " + " ".join(o.meta.help.split()))
        if value is None and o.default is None:
            lines.append(f"# {o.name} = none  (the default; TOML has no null)")
        else:
            lines.append(f"{o.name} = {_literal('none' if value is None else value)}")
    return "\n".join(lines) + "\n"


def _jsonable(v):
    return [_jsonable(x) for x in v] if isinstance(v, (tuple, list)) else v


def _text(v) -> str:
    """A value as typed on the command line."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (tuple, list)):
        return ",".join(_text(x) for x in v) if v else '""'
    return str(v)


def _literal(v) -> str:
    """A value as written in TOML (None, which TOML lacks, shows as none)."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):  # a JSON string is a TOML basic string, once DEL is escaped
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    return repr(v)


# ----------------------------------------------------------------------- checks
# Each returns None when the value is fine, else the reason, which build_config prefixes with
# the flag and value: "invalid --batch-size 0: must be a positive integer".
def positive(v) -> str | None:
    if v > 0:
        return None
    return "must be a positive integer" if isinstance(v, int) else "must be > 0"


def non_negative(v) -> str | None:
    if v >= 0:
        return None
    return "must be a non-negative integer" if isinstance(v, int) else "must be >= 0"


def in_unit_interval_open_right(v) -> str | None:
    if 0 <= v < 1:
        return None
    return "sparsity is the fraction of weights removed, must be in [0, 1)"


def probability_open(v) -> str | None:
    return None if 0 < v < 1 else "must be in (0, 1)"


def all_positive(values) -> str | None:
    if all(v > 0 for v in values):
        return None
    if all(isinstance(v, int) for v in values):
        return "every entry must be a positive integer"
    return "every entry must be > 0"


__all__ = [
    "HASH_EXCLUDE", "add_arguments", "all_positive", "build_config", "config_from_dict",
    "config_hash", "config_to_dict", "dump_toml", "in_unit_interval_open_right", "load_toml",
    "non_default_items", "non_negative", "option", "positive", "probability_open", "run_name",
    "section_name",
]
