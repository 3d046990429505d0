"""TOML files: reading one (`load_toml`), picking a command's table (`_select`), writing one (`dump_toml`)."""
from __future__ import annotations

import difflib

from ..errors import ConfigError
from .declare import _options
from .literals import _literal

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser is on PyPI as `tomli`
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

# TOML table name -> the command that reads it ("prune" -> "sparsenet prune"), recorded by
# `add_arguments` so that a recipe meant for another command is named with its command.
_TABLES: dict[str, str] = {}


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
    if "sweep" in tables and section != "sweep":
        raise ConfigError(f"{source} is a sweep file (it has a [sweep] table): run `sparsenet sweep --config "
                          f"{source}`; a command's --config takes a recipe such as recipes/lottery-quick.toml")
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
