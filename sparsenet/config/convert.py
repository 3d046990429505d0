"""Converting and checking values: a flag's string or a TOML/JSON/Python value -> a typed, validated value.

`_apply` validates a dict of values (a TOML table, a JSON dict, overrides) key by key and
`_construct` builds the config from them; each problem is a one-line ConfigError naming the
flag or key and the value.
"""
from __future__ import annotations

import difflib
from typing import Any

from ..errors import ConfigError, SparsenetError
from .declare import MISSING, _choices, _Opt, _options
from .literals import _literal, _text


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
