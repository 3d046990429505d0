"""CIFAR-10 / CIFAR-100 "python version" batches: pickled dicts with bytes keys.

Each file holds ``{b'data': uint8 ndarray (N, 3072), b'labels': [int] * N}`` (CIFAR-10) or
``b'fine_labels'`` (CIFAR-100). A row is 1024 red, then 1024 green, then 1024 blue bytes, each
plane row-major 32x32, so ``reshape(N, 3, 32, 32)`` gives channels-first images.

Pickles can run code when loaded, so the unpickler here only resolves the handful of numpy
globals that an array needs (and ``_codecs.encode``, used by protocol-2 pickles of bytes); any
other global is refused as corrupt. A truncated or corrupt pickle, or arrays of the wrong size,
raise `DataError` naming the file.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from ..errors import DataError

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing global {module}.{name}")
        if module.startswith("numpy.core.") and hasattr(np, "_core"):
            module = "numpy._core." + module[len("numpy.core."):]  # numpy>=2 renamed numpy.core
        return super().find_class(module, name)


def read_batch(path: str | os.PathLike, label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch file -> (uint8 images (N, 3, 32, 32), int64 labels (N,))."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            d = _ArrayUnpickler(f, encoding="bytes").load()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except EOFError:
        raise DataError(f"{path}: truncated pickle (ended early)") from None
    except MemoryError:
        raise DataError(f"{path}: corrupt pickle (absurd size)") from None
    except Exception as e:  # UnpicklingError, ValueError, TypeError, ... from damaged bytes
        raise DataError(f"{path}: corrupt pickle ({type(e).__name__}: {e})".replace("\n", " ")) from None
    if not isinstance(d, dict):
        raise DataError(f"{path}: expected a pickled dict, got {type(d).__name__}")
    if b"data" not in d or label_key not in d:
        keys = sorted(k.decode("latin1") if isinstance(k, bytes) else str(k) for k in d)
        raise DataError(
            f"{path}: missing key b'data' or {label_key!r} (has {keys}); is this the right CIFAR variant?"
        )
    data, labels = d[b"data"], d[label_key]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        desc = f"{type(data).__name__} {getattr(data, 'dtype', '')} {list(getattr(data, 'shape', []))}"
        raise DataError(f"{path}: b'data' must be a uint8 array of shape [N, 3072], got {desc}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{path}: {label_key!r} is not a list of integers") from None
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise DataError(
            f"{path}: {labels.size} labels in {label_key!r} for {data.shape[0]} images in b'data'"
        )
    return data.reshape(-1, 3, 32, 32), labels


def check_batch_cheap(path: str | os.PathLike) -> int:
    """Cheap check for `describe`: the file must end with the pickle STOP opcode. Returns its size."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size == 0:
                raise DataError(f"{path}: empty file")
            f.seek(-1, os.SEEK_END)
            last = f.read(1)
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    if last != b".":
        raise DataError(f"{path}: truncated pickle (does not end with the STOP opcode)")
    return size


def write_batch(path: str | os.PathLike, images: np.ndarray, labels, label_key: bytes = b"labels") -> Path:
    """Write a CIFAR-style batch (images uint8 (N, 3, 32, 32) or (N, 3072)); used by tests and tools."""
    from ..io import write_bytes

    images = np.asarray(images, dtype=np.uint8).reshape(len(images), 3072)
    d = {b"batch_label": b"written by sparsenet", b"data": images, label_key: [int(v) for v in labels]}
    return write_bytes(path, pickle.dumps(d, protocol=2))
