"""Where each dataset comes from: file lookup, the loader registry, `describe_datasets`.

The lookup precedence is documented in the `sparsenet.data` package docstring; `places` below
is its single implementation.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..errors import DataError, SparsenetError
from ..registry import Registry
from . import cifar, idx
from .dataset import Dataset
from .generated import (MNIST1D_DEFAULT_SEED, SYNTHETIC_DEFAULT_SEED, make_mnist1d, make_synthetic,
                        mnist1d_version)

# Root of Debian's dataset packages (e.g. `dataset-fashion-mnist`); tests monkeypatch it.
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


# --------------------------------------------------------------------------------------------
# Dataset specifications


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


IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass(frozen=True)
class IdxSpec(FileSpec):
    """MNIST-like: four IDX files (each raw or .gz), uint8 images (N, H, W) and uint8 labels (N,)."""

    files: tuple[str, ...] = IDX_FILES

    def resolve(self, d: Path, logical: str) -> Path | None:
        for candidate in (d / logical, d / f"{logical}.gz"):  # raw first: it is faster to read
            if candidate.is_file():
                return candidate
        return None

    def _check(self, shapes: dict[str, tuple], dtypes: dict[str, str], files: dict[str, Path]):
        for f in self.files:
            want_ndim = 3 if "images" in f else 1
            if dtypes[f] != "uint8":
                raise DataError(f"{files[f]}: IDX element type is {dtypes[f]}, {self.name} needs uint8")
            if len(shapes[f]) != want_ndim:
                raise DataError(
                    f"{files[f]}: IDX has {len(shapes[f])} dimensions {list(shapes[f])}, expected {want_ndim}"
                )
        for split in ("train", "t10k"):
            n_img = shapes[f"{split}-images-idx3-ubyte"][0]
            n_lab = shapes[f"{split}-labels-idx1-ubyte"][0]
            if n_img != n_lab:
                raise DataError(
                    f"{files[f'{split}-labels-idx1-ubyte']}: {n_lab} labels but "
                    f"{files[f'{split}-images-idx3-ubyte'].name} has {n_img} images"
                )
        tr, te = shapes["train-images-idx3-ubyte"][1:], shapes["t10k-images-idx3-ubyte"][1:]
        if tr != te:
            raise DataError(
                f"{files['t10k-images-idx3-ubyte']}: test images are {te[0]}x{te[1]} but train images are {tr[0]}x{tr[1]}"
            )

    def probe(self, directory, files) -> str:
        headers = {f: idx.read_idx_header(p) for f, p in files.items()}
        shapes = {f: h.shape for f, h in headers.items()}
        self._check(shapes, {f: h.dtype for f, h in headers.items()}, files)
        h, w = shapes["train-images-idx3-ubyte"][1:]
        return (f"{shapes['train-images-idx3-ubyte'][0]} train / {shapes['t10k-images-idx3-ubyte'][0]} test, "
                f"1x{h}x{w}, {self.num_classes} classes")

    def read(self, directory, files) -> Dataset:
        arrays = {f: idx.read_idx(p) for f, p in files.items()}
        self._check({f: a.shape for f, a in arrays.items()}, {f: a.dtype.name for f, a in arrays.items()}, files)
        for f in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
            _check_labels(arrays[f], self.num_classes, files[f])

        def images(a: np.ndarray) -> torch.Tensor:  # (N, H, W) uint8 -> (N, 1, H, W) float32 in [0, 1]
            return torch.from_numpy(a).unsqueeze(1).to(torch.float32).div_(255.0)

        return Dataset(
            name=self.name,
            x_train=images(arrays["train-images-idx3-ubyte"]),
            y_train=torch.from_numpy(arrays["train-labels-idx1-ubyte"].astype(np.int64)),
            x_test=images(arrays["t10k-images-idx3-ubyte"]),
            y_test=torch.from_numpy(arrays["t10k-labels-idx1-ubyte"].astype(np.int64)),
            num_classes=self.num_classes,
            source=str(directory),
        )


@dataclass(frozen=True)
class CifarSpec(FileSpec):
    """CIFAR python-version pickles; `label_key` picks b'labels' (10) or b'fine_labels' (100)."""

    train_files: tuple[str, ...] = ()
    test_files: tuple[str, ...] = ()
    label_key: bytes = b"labels"

    def probe(self, directory, files) -> str:
        total = sum(cifar.check_batch_cheap(p) for p in files.values())
        return f"{len(files)} pickle files, {total / 1e6:.1f} MB (decoded on load), {self.num_classes} classes"

    def read(self, directory, files) -> Dataset:
        def split(names) -> tuple[torch.Tensor, torch.Tensor]:
            xs, ys = [], []
            for n in names:
                x, y = cifar.read_batch(files[n], self.label_key)
                _check_labels(y, self.num_classes, files[n])
                xs.append(x)
                ys.append(y)
            x = np.concatenate(xs) if len(xs) > 1 else xs[0]
            y = np.concatenate(ys) if len(ys) > 1 else ys[0]
            return torch.from_numpy(x).to(torch.float32).div_(255.0), torch.from_numpy(y)

        x_tr, y_tr = split(self.train_files)
        x_te, y_te = split(self.test_files)
        return Dataset(self.name, x_tr, y_tr, x_te, y_te, self.num_classes, source=str(directory))


def _check_labels(labels: np.ndarray, num_classes: int, path: Path):
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise DataError(
            f"{path}: label value {int(bad[0])} out of range [0, {num_classes - 1}] "
            f"({bad.size} bad labels)"
        )


@dataclass(frozen=True)
class GeneratedSpec:
    """A dataset generated from a seed; `data_dir` is ignored."""

    name: str
    title: str
    num_classes: int
    make: Callable[[int], Dataset]
    shape_detail: str
    available: Callable[[], str | None]  # a location string, or None if the generator is missing
    how_to_get: str

    kind = "generated"

    default_seed: int = 0  # the seed used when none is given (the generator's own default)

    def load(self, data_dir=None, seed: int | None = None) -> Dataset:
        return self.make(self.default_seed if seed is None else int(seed))

    def describe(self, data_dir=None) -> dict:
        where = self.available()
        return dict(
            name=self.name, kind=self.kind, found=where is not None,
            status="generated" if where is not None else "missing",
            location=where, looked=[], how_to_get=self.how_to_get, default_seed=self.default_seed,
            detail=self.shape_detail if where is not None else f"cannot generate: {self.how_to_get}",
        )


def _cifar_how(title: str, tarball: str, folder: str, env_var: str) -> str:
    return (
        f"download the {title} python version ({tarball}) on a machine with network access, "
        f"unpack it (tar xzf {tarball}) and pass --data-dir DIR (DIR or DIR/{folder} holding the "
        f"batches), or set {env_var}"
    )


DATASETS: Registry = Registry("dataset")

DATASETS.register("fashion-mnist", IdxSpec(
    name="fashion-mnist", title="Fashion-MNIST", num_classes=10,
    env_var="SPARSENET_FASHION_MNIST_DIR", subdirs=("fashion-mnist",), inner=(),
    system_dir="fashion-mnist",
    how_to_get="apt-get install -y dataset-fashion-mnist (installs /usr/share/datasets/fashion-mnist), "
               "or pass --data-dir DIR holding the four IDX files (each raw or .gz), "
               "or set SPARSENET_FASHION_MNIST_DIR",
))
DATASETS.register("mnist", IdxSpec(
    name="mnist", title="MNIST", num_classes=10,
    env_var="SPARSENET_MNIST_DIR", subdirs=("mnist",), inner=(), system_dir="mnist",
    how_to_get="put the four IDX files (each raw or .gz) in a dir and pass --data-dir DIR, "
               "or set SPARSENET_MNIST_DIR",
))
DATASETS.register("cifar10", CifarSpec(
    name="cifar10", title="CIFAR-10", num_classes=10,
    env_var="SPARSENET_CIFAR10_DIR",
    subdirs=("cifar-10-batches-py", "cifar-10/cifar-10-batches-py", "cifar-10"),
    inner=("cifar-10-batches-py",), system_dir=None,
    files=tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",),
    train_files=tuple(f"data_batch_{i}" for i in range(1, 6)), test_files=("test_batch",),
    label_key=b"labels",
    how_to_get=_cifar_how("CIFAR-10", "cifar-10-python.tar.gz", "cifar-10-batches-py", "SPARSENET_CIFAR10_DIR"),
))
DATASETS.register("cifar100", CifarSpec(
    name="cifar100", title="CIFAR-100", num_classes=100,
    env_var="SPARSENET_CIFAR100_DIR",
    subdirs=("cifar-100-python", "cifar-100/cifar-100-python", "cifar-100"),
    inner=("cifar-100-python",), system_dir=None,
    files=("train", "test"), train_files=("train",), test_files=("test",),
    label_key=b"fine_labels",
    how_to_get=_cifar_how("CIFAR-100", "cifar-100-python.tar.gz", "cifar-100-python", "SPARSENET_CIFAR100_DIR"),
))
DATASETS.register("mnist1d", GeneratedSpec(
    name="mnist1d", title="MNIST-1D", num_classes=10, make=lambda seed: make_mnist1d(seed),
    default_seed=MNIST1D_DEFAULT_SEED,
    shape_detail=(f"4000 train / 1000 test, 40 features, 10 classes (generated on load; data seed "
                  f"{MNIST1D_DEFAULT_SEED} = the mnist1d package's default, --data-seed to change)"),
    available=lambda: f"generated by mnist1d {v}" if (v := mnist1d_version()) else None,
    how_to_get="pip install mnist1d (generated offline; never downloaded)",
))
DATASETS.register("synthetic", GeneratedSpec(
    name="synthetic", title="synthetic", num_classes=10, make=lambda seed: make_synthetic(seed),
    default_seed=SYNTHETIC_DEFAULT_SEED,
    shape_detail=(f"2000 train / 500 test, 64 features, 10 classes (class prototypes + noise; data seed "
                  f"{SYNTHETIC_DEFAULT_SEED}, --data-seed to change)"),
    available=lambda: "generated by sparsenet", how_to_get="built in",
))

ALIASES = {
    "fmnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "cifar-10": "cifar10",
    "cifar-100": "cifar100",
    "mnist-1d": "mnist1d",
}


def get_spec(name: str):
    """The registered spec for `name` (case-insensitive; '_' == '-'; a few aliases)."""
    if not isinstance(name, str):
        raise SparsenetError(f"dataset name must be a string, got {name!r}; valid datasets: {', '.join(DATASETS.names())}")
    key = name.strip().lower().replace("_", "-")
    return DATASETS.get(ALIASES.get(key, key))


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, *, seed: int | None = None) -> Dataset:
    """Load dataset `name` fully into memory (see the package docstring for where files are looked for).

    `seed` only affects generated datasets (mnist1d, synthetic); None is the generator's own
    default (`data_seed`). `data_dir` only affects file datasets.
    """
    return get_spec(name).load(data_dir=data_dir, seed=seed)


def data_seed(name: str, seed: int | None = None) -> int | None:
    """The seed a generated dataset `name` is made with for `seed` (None = its default: 42 for
    mnist1d, the mnist1d package's own; 0 for synthetic); None for a file dataset (no seed)."""
    spec = get_spec(name)
    if spec.kind != "generated":
        return None
    return spec.default_seed if seed is None else int(seed)


def dataset_names() -> list[str]:
    """Names of the registered datasets, sorted."""
    return DATASETS.names()


def describe_datasets(data_dir: str | os.PathLike | None = None) -> list[dict]:
    """One row per dataset, cheaply: file presence and IDX headers, never a full decode.

    Keys: name, kind ("file"/"generated"), found (usable as far as the cheap checks tell),
    status ("found", "generated", "missing", "corrupt"), location (directory, generator, or None),
    looked (directories tried, in order), how_to_get, detail; generated datasets also have
    default_seed (the seed used when none is given).
    """
    return [DATASETS.get(n).describe(data_dir) for n in DATASETS.names()]


def format_dataset_table(rows: list[dict]) -> str:
    """Plain-text table of `describe_datasets` rows, then where missing/corrupt datasets were looked for."""
    head = ("dataset", "status", "location", "detail")
    body = [
        (r["name"], r.get("status", "found" if r.get("found") else "missing"), r.get("location") or "-",
         r.get("detail") or "")
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(3)]

    def line(cells) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells[:3], widths)) + "  " + str(cells[3])

    out = [line(head), line(tuple("-" * w for w in widths) + ("-" * 6,))]
    out += [line(b) for b in body]
    notes = []
    for r in rows:
        if not r.get("found"):
            if r.get("looked"):
                notes.append(f"{r['name']}: looked in {', '.join(r['looked'])}")
            notes.append(f"{r['name']}: to get it: {r.get('how_to_get', '')}")
    if notes:
        out += ["", *notes]
    return "\n".join(line.rstrip() for line in out)
