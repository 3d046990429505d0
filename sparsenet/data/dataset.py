"""`Dataset`: a whole dataset held in memory as torch tensors."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from ..errors import ConfigError, DataError


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train and test splits in memory.

    ``x_*`` are float32 in their natural per-sample shape ((1, 28, 28) for MNIST-like images in
    [0, 1], (3, 32, 32) for CIFAR, (40,) for MNIST-1D, (64,) for synthetic); ``y_*`` are int64 class
    indices in ``[0, num_classes)``. Treat the tensors as read-only: `flat` and `subset` may share
    memory with the original.

    >>> from sparsenet.data import load_dataset
    >>> ds = load_dataset("synthetic", seed=0)
    >>> ds.input_shape, ds.in_features, ds.num_classes
    ((64,), 64, 10)
    >>> small = ds.subset(100, 20)
    >>> (len(small.x_train), len(small.x_test))
    (100, 20)
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    source: str

    def __post_init__(self):
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
                raise DataError(f"{self.name}: x_{split} and y_{split} must be torch tensors")
            if y.ndim != 1 or x.ndim < 2 or x.shape[0] != y.shape[0]:
                raise DataError(
                    f"{self.name}: x_{split} {list(x.shape)} and y_{split} {list(y.shape)} "
                    "must be (N, ...) and (N,)"
                )
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(
                f"{self.name}: train samples {list(self.x_train.shape[1:])} and test samples "
                f"{list(self.x_test.shape[1:])} differ in shape"
            )

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. (1, 28, 28)."""
        return tuple(self.x_train.shape[1:])

    @property
    def in_features(self) -> int:
        """Number of input values per sample (prod of `input_shape`)."""
        return math.prod(self.input_shape)

    def flat(self) -> "Dataset":
        """A copy with x reshaped to (N, in_features), for MLPs (tensors may be views)."""
        return dataclasses.replace(
            self,
            x_train=self.x_train.reshape(len(self.x_train), -1),
            x_test=self.x_test.reshape(len(self.x_test), -1),
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first `n_train` training and first `n_test` test samples (None keeps all).

        Deterministic (no shuffling). The slices are cloned, so a small subset does not keep the
        full tensors alive.
        """

        def take(x: torch.Tensor, y: torch.Tensor, n, arg: str):
            if n is None:
                return x, y
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ConfigError(f"{arg}={n!r} must be a non-negative integer or None")
            if n > len(x):
                raise ConfigError(f"{arg}={n} exceeds the {len(x)} samples of {self.name}; use at most {len(x)}")
            return x[:n].clone(), y[:n].clone()

        x_tr, y_tr = take(self.x_train, self.y_train, n_train, "n_train")
        x_te, y_te = take(self.x_test, self.y_test, n_test, "n_test")
        return dataclasses.replace(self, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, train={len(self.x_train)}, test={len(self.x_test)}, "
            f"input_shape={self.input_shape}, num_classes={self.num_classes}, source={self.source!r})"
        )
