"""Where a file dataset's files are looked for: `FileSpec.places` (the lookup precedence of the
`sparsenet.data` package docstring, its single implementation), `locate`, and the two
lookup errors, `NotFound` and `Incomplete`.

`FileSpec` is the base of the file dataset specs in `specs`; they say which files and how to
decode them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError
from .dataset import Dataset

# Root of Debian's dataset packages (e.g. `dataset-fashion-mnist`); tests monkeypatch it here
# (`sparsenet.data.lookup.SYSTEM_ROOT`: the copy that `sources` re-exports is not read).
SYSTEM_ROOT = Path("/usr/share/datasets")
DATA_DIR_ENV = "SPARSENET_DATA_DIR"


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/sparsenet``, else ``~/.cache/sparsenet``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "sparsenet"


@dataclass(frozen=True)
class Place:
    path: Path
    origin: str  # "data_dir", "$SPARSENET_..._DIR", "standard"


class NotFound(DataError):
    """The dataset is in none of the places looked (a `DataError`)."""

    def __init__(self, message: str, looked: list[str]):
        super().__init__(message)
        self.looked = looked


class Incomplete(DataError):
    """A directory holds some but not all of a dataset's files, or they are corrupt."""

    def __init__(self, message: str, location: Path, looked: list[str]):
        super().__init__(message)
        self.location = location
        self.looked = looked


@dataclass(frozen=True)
class FileSpec:
    """A dataset read from files; subclasses say which files and how to decode them."""

    name: str
    title: str
    num_classes: int
    env_var: str
    subdirs: tuple[str, ...]  # under a root (data_dir, $SPARSENET_DATA_DIR), tried before the root
    inner: tuple[str, ...]  # under a dataset dir (env var, standard), tried before the dir itself
    system_dir: str | None  # under SYSTEM_ROOT
    how_to_get: str
    files: tuple[str, ...] = field(default=())

    kind = "file"

    # -- where to look ------------------------------------------------------------------------
    def places(self, data_dir: str | os.PathLike | None = None) -> list[Place]:
        """Every directory to try, in order; see the package docstring."""
        out: list[Place] = []

        def root(r: Path, origin: str):
            out.extend(Place(r / s, origin) for s in self.subdirs)
            out.append(Place(r, origin))

        def dataset_dir(d: Path, origin: str):
            out.extend(Place(d / s, origin) for s in self.inner)
            out.append(Place(d, origin))

        if data_dir is not None and str(data_dir) != "":
            root(Path(data_dir).expanduser(), "data_dir")
        else:
            if os.environ.get(self.env_var):
                dataset_dir(Path(os.environ[self.env_var]).expanduser(), f"${self.env_var}")
            if os.environ.get(DATA_DIR_ENV):
                root(Path(os.environ[DATA_DIR_ENV]).expanduser(), f"${DATA_DIR_ENV}")
            if self.system_dir is not None:
                dataset_dir(SYSTEM_ROOT / self.system_dir, "standard")
            dataset_dir(cache_root() / self.name, "standard")
        seen, unique = set(), []
        for p in out:
            key = os.path.normpath(os.path.abspath(p.path))
            if key not in seen:
                seen.add(key)
                unique.append(p)
        return unique

    def resolve(self, d: Path, logical: str) -> Path | None:
        """The file in `d` that provides `logical`, or None."""
        p = d / logical
        return p if p.is_file() else None

    def locate(self, data_dir=None) -> tuple[Path, dict[str, Path], list[str]]:
        """(directory, {logical name: path}, looked) for the first place holding every file.

        A place holding only some of the files stops the search with `Incomplete`: the user
        evidently meant that directory, and silently reading another copy would hide the problem.
        """
        places = self.places(data_dir)
        looked = [str(p.path) for p in places]
        for place in places:
            found = {f: self.resolve(place.path, f) for f in self.files}
            have = {f: p for f, p in found.items() if p is not None}
            if len(have) == len(self.files):
                return place.path, have, looked
            if have:
                missing = [f for f in self.files if f not in have]
                raise Incomplete(
                    f"{self.name}: {place.path} ({place.origin}) is incomplete: has {', '.join(sorted(have))} "
                    f"but lacks {', '.join(missing)}; to get it: {self.how_to_get}",
                    place.path,
                    looked,
                )
        raise NotFound(self.not_found_message(places, data_dir), looked)

    def not_found_message(self, places: list[Place], data_dir) -> str:
        groups: dict[str, list[str]] = {}
        for p in places:
            groups.setdefault(p.origin, []).append(str(p.path))
        where = "; ".join(f"{origin}: {', '.join(paths)}" for origin, paths in groups.items())
        if data_dir is None or str(data_dir) == "":
            unset = [v for v in (self.env_var, DATA_DIR_ENV) if not os.environ.get(v)]
            if unset:
                where += f" ({' and '.join(unset)} not set)"
        want = ", ".join(self.files)
        return f"{self.title} ({self.name}) not found; looked in (in order) {where}; need {want}; to get it: {self.how_to_get}"

    # -- loading ------------------------------------------------------------------------------
    def load(self, data_dir=None, seed: int | None = None) -> Dataset:  # seed: unused (no generator)
        directory, files, _ = self.locate(data_dir)
        return self.read(directory, files)

    def read(self, directory: Path, files: dict[str, Path]) -> Dataset:
        raise NotImplementedError

    def probe(self, directory: Path, files: dict[str, Path]) -> str:
        """Cheap consistency check (headers, sizes); returns a detail line or raises DataError."""
        raise NotImplementedError

    def describe(self, data_dir=None) -> dict:
        row = dict(name=self.name, kind=self.kind, how_to_get=self.how_to_get)
        try:
            directory, files, looked = self.locate(data_dir)
        except NotFound as e:
            return dict(row, found=False, status="missing", location=None, looked=e.looked,
                        detail=f"not found ({len(e.looked)} places looked)")
        except Incomplete as e:
            return dict(row, found=False, status="corrupt", location=str(e.location), looked=e.looked,
                        detail=str(e))
        try:
            detail = self.probe(directory, files)
        except DataError as e:
            return dict(row, found=False, status="corrupt", location=str(directory), looked=looked,
                        detail=str(e))
        return dict(row, found=True, status="found", location=str(directory), looked=looked, detail=detail)
