"""CIFAR-10 / CIFAR-100 loaders on tiny fake pickle batches."""
import os
import pickle
import warnings

import numpy as np
import pytest
import torch

from sparsenet.data import DataError, describe_datasets, load_dataset
from sparsenet.data.fakes import cifar_pickle, py2_cifar_pickle, write_fake_cifar10


def test_cifar10_tiny(tmp_path):
    write_fake_cifar10(tmp_path / "cifar-10-batches-py", n=4)
    ds = load_dataset("cifar10", tmp_path)
    assert ds.x_train.shape == (20, 3, 32, 32) and ds.x_test.shape == (4, 3, 32, 32)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    # batch b (0-based), image j: every pixel is 16*b + j; batches concatenated in order 1..5
    assert ds.x_train[4 * 2 + 3].unique().tolist() == [pytest.approx((16 * 2 + 3) / 255)]
    assert ds.x_test[1].unique().tolist() == [pytest.approx((16 * 5 + 1) / 255)]
    assert ds.y_train[:8].tolist() == [0, 1, 2, 3, 1, 2, 3, 4]
    assert ds.y_test.tolist() == [5, 6, 7, 8]
    assert ds.num_classes == 10 and ds.source == str(tmp_path / "cifar-10-batches-py")


def test_cifar_row_layout_is_channel_planes(tmp_path):
    # one row = 1024 red, 1024 green, 1024 blue bytes; each plane row-major 32x32
    row = np.zeros(3072, dtype=np.uint8)
    row[0] = 255  # red (0, 0)
    row[1024 + 32 * 1 + 2] = 51  # green at (row 1, col 2)
    row[2048 + 32 * 31 + 31] = 102  # blue at (31, 31)
    imgs = np.stack([row, np.zeros(3072, np.uint8)])
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (tmp_path / name).write_bytes(cifar_pickle(imgs, [3, 4]))
    x = load_dataset("cifar10", tmp_path).x_train[0]
    assert x[0, 0, 0] == 1.0
    assert x[1, 1, 2] == pytest.approx(0.2)
    assert x[2, 31, 31] == pytest.approx(0.4)
    assert x.sum() == pytest.approx(1.6)


@pytest.mark.parametrize("layout", ["cifar-100-python", "cifar-100/cifar-100-python", "cifar-100", "."])
def test_cifar100_fine_labels(tmp_path, layout):
    d = tmp_path / layout
    d.mkdir(parents=True, exist_ok=True)
    imgs = np.arange(3 * 3072, dtype=np.int64).reshape(3, 3072).astype(np.uint8)
    coarse = {b"coarse_labels": [0, 0, 0]}
    (d / "train").write_bytes(cifar_pickle(imgs, [99, 0, 57], b"fine_labels", coarse, protocol=4))
    (d / "test").write_bytes(cifar_pickle(imgs[:2], [12, 98], b"fine_labels", coarse, protocol=5))
    ds = load_dataset("cifar100", tmp_path)
    assert ds.num_classes == 100
    assert ds.y_train.tolist() == [99, 0, 57] and ds.y_test.tolist() == [12, 98]
    assert ds.x_train.shape == (3, 3, 32, 32)
    assert ds.x_train[1, 0, 0, 0] == pytest.approx((3072 % 256) / 255)
    assert ds.source == str(d)  # pathlib drops the "." of layout "."


def test_python2_numpy1_pickles_like_the_real_files(tmp_path):
    imgs = (np.arange(2 * 3072) % 251).astype(np.uint8).reshape(2, 3072)
    for i in range(1, 6):
        (tmp_path / f"data_batch_{i}").write_bytes(py2_cifar_pickle(imgs, [i, 9]))
    (tmp_path / "test_batch").write_bytes(py2_cifar_pickle(imgs, [0, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. numpy>=2's DeprecationWarning for numpy.core
        ds = load_dataset("cifar10", tmp_path)
    assert ds.y_train.tolist() == [1, 9, 2, 9, 3, 9, 4, 9, 5, 9] and ds.y_test.tolist() == [0, 1]
    expected = torch.from_numpy(imgs.reshape(2, 3, 32, 32)).float() / 255
    torch.testing.assert_close(ds.x_test, expected)
    for name in ("train", "test"):
        (tmp_path / name).write_bytes(py2_cifar_pickle(imgs, [98, 99], b"fine_labels"))
    assert load_dataset("cifar100", tmp_path).y_train.tolist() == [98, 99]


def test_cifar100_rejects_cifar10_files(tmp_path):
    imgs = np.zeros((2, 3072), np.uint8)
    for name in ("train", "test"):
        (tmp_path / name).write_bytes(cifar_pickle(imgs, [1, 2], b"labels"))
    with pytest.raises(DataError, match=r"train: missing key b'data' or b'fine_labels'"):
        load_dataset("cifar100", tmp_path)


@pytest.fixture
def cifar10_dir(tmp_path):
    return write_fake_cifar10(tmp_path / "c10", n=4)


def _err(d) -> str:
    with pytest.raises(DataError) as ei:
        load_dataset("cifar10", d)
    assert "\n" not in str(ei.value)
    return str(ei.value)


def test_truncated_pickle(cifar10_dir):
    p = cifar10_dir / "data_batch_3"
    p.write_bytes(p.read_bytes()[:5000])
    assert "data_batch_3" in _err(cifar10_dir) and "truncated" in _err(cifar10_dir)


def test_garbage_pickle(cifar10_dir):
    (cifar10_dir / "test_batch").write_bytes(b"this is not a pickle at all")
    msg = _err(cifar10_dir)
    assert "test_batch" in msg and "corrupt" in msg


def test_wrong_array_size(cifar10_dir):
    (cifar10_dir / "data_batch_2").write_bytes(cifar_pickle(np.zeros((4, 3000), np.uint8), [0, 1, 2, 3]))
    msg = _err(cifar10_dir)
    assert "data_batch_2" in msg and "[4, 3000]" in msg


def test_label_count_mismatch(cifar10_dir):
    (cifar10_dir / "data_batch_5").write_bytes(cifar_pickle(np.zeros((4, 3072), np.uint8), [0, 1, 2]))
    msg = _err(cifar10_dir)
    assert "data_batch_5" in msg and "3 labels" in msg and "4 images" in msg


def test_label_out_of_range(cifar10_dir):
    (cifar10_dir / "test_batch").write_bytes(cifar_pickle(np.zeros((2, 3072), np.uint8), [3, 10]))
    msg = _err(cifar10_dir)
    assert "test_batch" in msg and "label value 10 out of range" in msg


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_pickle_with_foreign_global_is_refused_not_run(cifar10_dir, tmp_path):
    marker = tmp_path / "pwned"
    (cifar10_dir / "data_batch_1").write_bytes(pickle.dumps({b"data": _Evil(str(marker)), b"labels": []}))
    msg = _err(cifar10_dir)
    assert "data_batch_1" in msg and "refusing global" in msg
    assert not marker.exists()


def test_describe_detects_truncated_pickle_cheaply(cifar10_dir, monkeypatch):
    from sparsenet.data import cifar

    monkeypatch.setattr(cifar, "read_batch", lambda *a, **k: pytest.fail("describe must not decode"))
    row = {r["name"]: r for r in describe_datasets(cifar10_dir)}["cifar10"]
    assert row["found"] and row["status"] == "found" and row["location"] == str(cifar10_dir)
    p = cifar10_dir / "data_batch_4"
    p.write_bytes(p.read_bytes()[:-10])
    row = {r["name"]: r for r in describe_datasets(cifar10_dir)}["cifar10"]
    assert not row["found"] and row["status"] == "corrupt" and "data_batch_4" in row["detail"]
