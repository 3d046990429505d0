"""The kinds of dataset spec: `IdxSpec` (MNIST-like IDX files), `CifarSpec` (CIFAR pickles),
both `FileSpec`s, and `GeneratedSpec` (made from a seed)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..errors import DataError
from . import cifar, idx
from .dataset import Dataset
from .lookup import FileSpec

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
