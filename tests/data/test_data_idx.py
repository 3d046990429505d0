"""IDX reader and the MNIST-like loader on tiny hand-written files."""
import gzip

import numpy as np
import pytest
import torch

from sparsenet.data import DataError, load_dataset
from sparsenet.data.fakes import idx_bytes, write_fake_mnist
from sparsenet.data.idx import read_idx, read_idx_header, write_idx


@pytest.mark.parametrize("gz", [False, True])
def test_read_uint8_values_and_shape(tmp_path, gz):
    raw = idx_bytes(0x08, (2, 2, 3), bytes(range(12)))
    p = tmp_path / ("imgs-idx3-ubyte" + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(raw) if gz else raw)
    a = read_idx(p)
    assert a.dtype == np.uint8 and a.shape == (2, 2, 3)
    assert a[0].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert a[1, 1, 2] == 11
    h = read_idx_header(p)
    assert h.shape == (2, 2, 3) and h.dtype == "uint8"


def test_read_big_endian_int16(tmp_path):
    # 0x0B = int16, big-endian: 01 02 -> 258, FF FE -> -2
    p = tmp_path / "x-idx1"
    p.write_bytes(idx_bytes(0x0B, (2,), bytes([0x01, 0x02, 0xFF, 0xFE])))
    assert read_idx(p).tolist() == [258, -2]


def test_write_idx_roundtrip_float32(tmp_path):
    a = np.array([[1.5, -2.0], [0.25, 3.0]], dtype=np.float32)
    p = write_idx(tmp_path / "f.gz", a)
    raw = gzip.decompress(p.read_bytes())
    assert raw[:4] == bytes([0, 0, 0x0D, 2])
    assert raw[12:16] == bytes.fromhex("3fc00000")  # 1.5 as big-endian float32
    np.testing.assert_array_equal(read_idx(p), a)


def _expect_error(path, *words):
    with pytest.raises(DataError) as ei:
        read_idx(path)
    msg = str(ei.value)
    assert path.name in msg and "\n" not in msg
    for w in words:
        assert w in msg
    return msg


def test_truncated_data(tmp_path):
    p = tmp_path / "short-idx1-ubyte"
    p.write_bytes(idx_bytes(0x08, (5,), bytes([1, 2, 3])))
    _expect_error(p, "truncated", "5 data bytes", "has 3")
    with pytest.raises(DataError, match="short-idx1-ubyte"):
        read_idx_header(p)


def test_trailing_bytes(tmp_path):
    p = tmp_path / "long-idx1-ubyte"
    p.write_bytes(idx_bytes(0x08, (2,), bytes([1, 2, 3])))
    _expect_error(p, "trailing")


def test_bad_magic(tmp_path):
    p = tmp_path / "magic-idx1-ubyte"
    p.write_bytes(bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]))
    _expect_error(p, "magic")


def test_gzip_without_suffix_reports_bad_magic(tmp_path):
    p = tmp_path / "actually-gz-idx1-ubyte"
    p.write_bytes(gzip.compress(idx_bytes(0x08, (1,), b"\x07")))
    _expect_error(p, "magic")


def test_unsupported_dtype(tmp_path):
    p = tmp_path / "dtype-idx1-ubyte"
    p.write_bytes(idx_bytes(0x07, (1,), b"\x00"))
    _expect_error(p, "0x07")


@pytest.mark.parametrize("content", [b"", b"\x00\x00", bytes([0, 0, 8, 3, 0, 0, 0, 1])])
def test_truncated_header(tmp_path, content):
    p = tmp_path / "hdr-idx3-ubyte"
    p.write_bytes(content)
    _expect_error(p, "truncated")


def test_gzip_truncated(tmp_path):
    rng = np.random.default_rng(0)
    raw = idx_bytes(0x08, (500,), rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
    p = tmp_path / "cut-idx1-ubyte.gz"
    p.write_bytes(gzip.compress(raw)[:-30])
    _expect_error(p, "gzip")
    with pytest.raises(DataError, match="cut-idx1-ubyte.gz"):
        read_idx_header(p)  # the ISIZE trailer no longer matches


def test_gzip_crc_error(tmp_path):
    buf = bytearray(gzip.compress(idx_bytes(0x08, (3,), b"\x01\x02\x03")))
    buf[-8] ^= 0xFF  # CRC32 field of the gzip trailer
    p = tmp_path / "crc-idx1-ubyte.gz"
    p.write_bytes(bytes(buf))
    _expect_error(p, "corrupt gzip")


def test_missing_file(tmp_path):
    _expect_error(tmp_path / "nope-idx1-ubyte", "not found")


# ---- the loader on top of the reader ----------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_load_tiny_mnist(tmp_path, gz):
    write_fake_mnist(tmp_path, n_train=6, n_test=4, h=3, w=2, gz=gz)
    ds = load_dataset("mnist", tmp_path)
    assert ds.x_train.shape == (6, 1, 3, 2) and ds.x_test.shape == (4, 1, 3, 2)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert ds.x_train[2].flatten().tolist() == [pytest.approx(20 / 255)] * 6
    assert ds.x_test[3, 0, 2, 1].item() == pytest.approx(30 / 255)
    assert ds.y_train.tolist() == [0, 1, 2, 3, 4, 5] and ds.y_test.tolist() == [0, 1, 2, 3]
    assert ds.num_classes == 10 and ds.source == str(tmp_path)


def test_raw_preferred_over_gz(tmp_path):
    write_fake_mnist(tmp_path, n_train=6, gz=True)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(0x08, (6,), bytes([9] * 6)))
    assert load_dataset("mnist", tmp_path).y_train.tolist() == [9] * 6


def test_label_count_mismatch(tmp_path):
    write_fake_mnist(tmp_path, n_train=6, train_labels=[1, 2, 3, 4, 5])
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz: 5 labels but train-images"):
        load_dataset("mnist", tmp_path)


def test_label_out_of_range(tmp_path):
    write_fake_mnist(tmp_path, n_train=3, train_labels=[0, 10, 2])
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz: label value 10 out of range \[0, 9\]"):
        load_dataset("fashion-mnist", tmp_path)


def test_images_must_be_uint8_3d(tmp_path):
    write_fake_mnist(tmp_path, gz=False)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(0x08, (4, 6), bytes(24)))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: IDX has 2 dimensions"):
        load_dataset("mnist", tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(0x0C, (4, 3, 2), bytes(96)))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: IDX element type is int32"):
        load_dataset("mnist", tmp_path)


def test_corrupt_file_in_dataset_names_the_file(tmp_path):
    write_fake_mnist(tmp_path, n_train=6, gz=True)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        load_dataset("mnist", tmp_path)


def test_huge_header_dims_do_not_overflow(tmp_path):
    p = tmp_path / "huge-idx3-ubyte"
    p.write_bytes(idx_bytes(0x08, (2**32 - 1, 2**32 - 1, 2**32 - 1), b"\x00" * 8))
    _expect_error(p, "truncated")
    with pytest.raises(DataError, match="huge-idx3-ubyte"):
        read_idx_header(p)
