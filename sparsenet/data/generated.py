"""Datasets generated offline from a seed: MNIST-1D and a small synthetic classification task."""
from __future__ import annotations

import random

import numpy as np
import torch

from ..errors import ConfigError, DataError
from .dataset import Dataset

# The seed `mnist1d.data.get_dataset_args()` sets (and that the package's published results and
# its downloadable pickle use); a test checks it against the installed package.
MNIST1D_DEFAULT_SEED = 42
SYNTHETIC_DEFAULT_SEED = 0


def mnist1d_version() -> str | None:
    """Installed `mnist1d` version, or None when the package is missing (cheap: no import)."""
    from importlib import metadata

    try:
        return metadata.version("mnist1d")
    except metadata.PackageNotFoundError:
        return None


def make_mnist1d(seed: int = MNIST1D_DEFAULT_SEED, num_samples: int = 5000) -> Dataset:
    """MNIST-1D (Greydanus 2020, arXiv:2011.14439) generated with the `mnist1d` package.

    Calls ``mnist1d.data.make_dataset`` directly, never ``get_dataset`` (which downloads a
    pickle and writes a cache file into the working directory). Nothing is cached. The package
    seeds the global `random` / `numpy.random` state; both are restored afterwards, so loading
    MNIST-1D does not perturb the caller's RNG streams. The package default seed is 42; with the
    default split, 80% of `num_samples` are training samples: 4000 train / 1000 test, x (N, 40)
    float32 (standardised by the package, not in [0, 1]), 10 classes.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as e:
        raise DataError(f"mnist1d: the mnist1d package is not importable ({e}); pip install mnist1d") from None
    args = get_dataset_args()  # ObjectView of the package defaults
    args.seed = int(seed)
    args.num_samples = int(num_samples)
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        d = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return Dataset(
        name="mnist1d",
        x_train=torch.from_numpy(np.ascontiguousarray(d["x"], dtype=np.float32)),
        y_train=torch.from_numpy(np.ascontiguousarray(d["y"], dtype=np.int64)),
        x_test=torch.from_numpy(np.ascontiguousarray(d["x_test"], dtype=np.float32)),
        y_test=torch.from_numpy(np.ascontiguousarray(d["y_test"], dtype=np.int64)),
        num_classes=10,
        source=f"generated (mnist1d {mnist1d_version()}, seed={seed})",
    )


def make_synthetic(
    seed: int = SYNTHETIC_DEFAULT_SEED,
    n_train: int = 2000,
    n_test: int = 500,
    num_classes: int = 10,
    features: int = 64,
    noise: float = 2.0,
) -> Dataset:
    """Gaussian class prototypes plus isotropic noise: small, deterministic and learnable.

    ``x = (p[y] + noise * e) / sqrt(1 + noise**2)`` with ``p ~ N(0, I)`` one prototype per class and
    ``e ~ N(0, I)``, so each feature has about unit variance. Prototypes are ~sqrt(2 * features)
    apart; with the defaults a linear classifier reaches ~97% (the Bayes rate for equal isotropic
    Gaussians is linear). Labels are balanced and shuffled. Everything comes from one
    ``torch.Generator`` seeded with `seed`: prototypes, then train, then test.
    """
    for arg, v in (("n_train", n_train), ("n_test", n_test), ("num_classes", num_classes), ("features", features)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"synthetic: {arg}={v!r} must be a positive integer")
    if not noise >= 0:
        raise ConfigError(f"synthetic: noise={noise!r} must be >= 0")
    g = torch.Generator().manual_seed(int(seed))
    protos = torch.randn(num_classes, features, generator=g)
    scale = (1.0 + noise**2) ** -0.5

    def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = (torch.arange(n) % num_classes)[torch.randperm(n, generator=g)]
        x = (protos[y] + noise * torch.randn(n, features, generator=g)) * scale
        return x.float().contiguous(), y.long()

    x_tr, y_tr = split(n_train)
    x_te, y_te = split(n_test)
    return Dataset("synthetic", x_tr, y_tr, x_te, y_te, num_classes, source=f"generated (seed={seed})")
