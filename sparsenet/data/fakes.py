"""Tiny fake dataset files in the real on-disk formats, for tests and demos.

`write_fake_mnist` writes the four IDX files of an MNIST-like dataset (usable as MNIST or
Fashion-MNIST), `write_fake_cifar10` the six CIFAR-10 batches; `cifar_pickle` and
`py2_cifar_pickle` build single batches. Contents are simple functions of the index, so tests can
assert exact values:

>>> import tempfile, pathlib
>>> from sparsenet.data import load_dataset
>>> d = write_fake_mnist(pathlib.Path(tempfile.mkdtemp()) / "fashion-mnist", n_train=6, n_test=4)
>>> ds = load_dataset("fashion-mnist", d.parent)
>>> ds.x_train.shape, ds.y_test.tolist()
(torch.Size([6, 1, 3, 2]), [0, 1, 2, 3])
"""
from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np


def idx_bytes(code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """An IDX file built by hand: 00 00 <type> <ndim>, big-endian uint32 dims, payload."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def write_fake_mnist(d: Path, n_train: int = 6, n_test: int = 4, h: int = 3, w: int = 2, gz: bool = True,
                     train_labels: list[int] | None = None) -> Path:
    """Four IDX files; image i is filled with value (10 * i) % 256, label i is i % 10."""
    d.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        imgs = bytes(b for i in range(n) for b in [(10 * i) % 256] * (h * w))
        labels = train_labels if (split == "train" and train_labels is not None) else [i % 10 for i in range(n)]
        files = {
            f"{split}-images-idx3-ubyte": idx_bytes(0x08, (n, h, w), imgs),
            f"{split}-labels-idx1-ubyte": idx_bytes(0x08, (len(labels),), bytes(labels)),
        }
        for name, buf in files.items():
            (d / (name + suffix)).write_bytes(gzip.compress(buf) if gz else buf)
    return d


def cifar_pickle(images: np.ndarray, labels, label_key: bytes = b"labels", extra: dict | None = None,
                 protocol: int = 2) -> bytes:
    d = {b"batch_label": b"fake", b"data": images.reshape(len(images), -1), label_key: list(labels)}
    d.update(extra or {})
    return pickle.dumps(d, protocol=protocol)


def write_fake_cifar10(d: Path, n: int = 4) -> Path:
    """5 train batches + test batch of `n` images; every pixel of image j in batch b is 16*b + j."""
    d.mkdir(parents=True, exist_ok=True)
    for b, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        imgs = np.stack([np.full(3072, 16 * b + j, dtype=np.uint8) for j in range(n)])
        (d / name).write_bytes(cifar_pickle(imgs, [(b + j) % 10 for j in range(n)]))
    return d


def _binstring(b: bytes) -> bytes:
    return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + struct.pack("<i", len(b)) + b)


def py2_cifar_pickle(images: np.ndarray, labels: list[int], label_key: bytes = b"labels") -> bytes:
    """A batch assembled opcode by opcode the way Python 2 cPickle (protocol 2) and numpy 1.x wrote
    the real CIFAR files: py2 `str` as BINSTRING, globals from `numpy.core.multiarray`."""
    s = _binstring
    n = images.shape[0]
    dtype = (b"cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R(K\x03" + s(b"|")
             + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + s(b"b") + b"\x87R(K\x01"
             + b"M" + struct.pack("<H", n) + b"M\x00\x0c\x86" + dtype + b"\x89"
             + s(np.ascontiguousarray(images, dtype=np.uint8).tobytes()) + b"tb")
    labs = b"](" + b"".join(b"K" + bytes([v]) for v in labels) + b"e"
    return b"\x80\x02}(" + s(b"data") + array + s(label_key) + labs + s(b"batch_label") + s(b"batch") + b"u."
