"""Declaring options: `option()` and the per-field descriptions (`_Opt`) read from a config dataclass."""
from __future__ import annotations

import copy
import dataclasses
import functools
import types
import typing
from typing import Any, Callable, Literal, Sequence, Union

MISSING = dataclasses.MISSING
_META = "sparsenet.option"


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


def _choices(o: _Opt) -> list | None:
    if o.literal is not None:
        return list(o.literal)
    c = o.meta.choices
    return None if c is None else list(c() if callable(c) else c)
