"""A tiny name -> object registry used by every family (datasets, models, optimizers, ...)."""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from typing import Callable, Generic, Iterator, TypeVar

from .errors import SparsenetError

T = TypeVar("T")


class Registry(Generic[T]):
    """`register` / `get` / `names`; an unknown name lists the valid ones.

    `discover`, if given, is called once before the registry is first read (`get`, `names`, `in`),
    to import the modules whose entries register themselves (see `import_modules`)."""

    def __init__(self, kind: str, discover: Callable[[], object] | None = None, *, plural: str | None = None):
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._items: dict[str, T] = {}
        self._discover = discover

    def _complete(self) -> None:
        if self._discover is not None:
            discover, self._discover = self._discover, None  # cleared first: discovered modules may read us
            try:
                discover()
            except BaseException:
                self._discover = discover
                raise

    def register(self, name: str, obj: T | None = None):
        """Register `obj` under `name`; usable as a decorator when `obj` is omitted."""

        def add(o: T) -> T:
            if name in self._items:
                raise KeyError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = o
            return o

        return add if obj is None else add(obj)

    def get(self, name: str) -> T:
        self._complete()
        try:
            return self._items[name]
        except KeyError:
            raise SparsenetError(
                f"unknown {self.kind} {name!r}; valid {self.plural}: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        self._complete()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self._complete()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def import_modules(package: str, *, suffix: str = "", in_subpackages: str | None = None) -> list[str]:
    """Import the modules through which `package`'s entries register themselves; return their names.

    Without `in_subpackages`: every module of `package` whose name ends in `suffix` (the report
    kinds: `sparsenet/report/*_report.py`). With it: `<package>.<sub>.<in_subpackages>` of every
    subpackage that has one (the experiments: `sparsenet/experiments/*/command.py`). A module
    already imported is not run again, so calling this twice registers nothing twice."""
    found = []
    for info in sorted(pkgutil.iter_modules(importlib.import_module(package).__path__), key=lambda i: i.name):
        if in_subpackages is None:
            if not info.ispkg and info.name.endswith(suffix):
                found.append(f"{package}.{info.name}")
        elif info.ispkg and importlib.util.find_spec(f"{package}.{info.name}.{in_subpackages}") is not None:
            found.append(f"{package}.{info.name}.{in_subpackages}")
    for name in found:
        importlib.import_module(name)
    return found


__all__ = ["Registry", "Callable", "import_modules"]
