"""A tiny name -> object registry used by every family (datasets, models, optimizers, ...)."""
from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from .errors import SparsenetError

T = TypeVar("T")


class Registry(Generic[T]):
    """`register` / `get` / `names`; an unknown name lists the valid ones."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T | None = None):
        """Register `obj` under `name`; usable as a decorator when `obj` is omitted."""

        def add(o: T) -> T:
            if name in self._items:
                raise KeyError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = o
            return o

        return add if obj is None else add(obj)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise SparsenetError(
                f"unknown {self.kind} {name!r}; valid {self.kind}s: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


__all__ = ["Registry", "Callable"]
