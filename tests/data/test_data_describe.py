"""`describe_datasets` (cheap) and `format_dataset_table` (the CLI's `sparsenet data`)."""
import pytest

from sparsenet.data import describe_datasets, format_dataset_table, idx
from sparsenet.data.fakes import write_fake_mnist

NAMES = ["cifar10", "cifar100", "fashion-mnist", "mnist", "mnist1d", "synthetic"]


@pytest.fixture
def no_decoding(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("describe_datasets must not decode whole files")

    monkeypatch.setattr(idx, "read_idx", refuse)


def test_rows_for_all_six(isolated, no_decoding):
    write_fake_mnist(isolated / "fashion-mnist", n_train=6, n_test=4, h=3, w=2)
    rows = describe_datasets()
    assert [r["name"] for r in rows] == NAMES
    for r in rows:
        assert set(r) >= {"name", "found", "location", "looked", "how_to_get", "detail"}
    by = {r["name"]: r for r in rows}
    fm = by["fashion-mnist"]
    assert fm["found"] and fm["status"] == "found" and fm["location"] == str(isolated / "fashion-mnist")
    assert fm["detail"] == "6 train / 4 test, 1x3x2, 10 classes"
    for name in ("mnist", "cifar10", "cifar100"):
        assert not by[name]["found"] and by[name]["location"] is None and by[name]["status"] == "missing"
        assert by[name]["looked"] and "--data-dir" in by[name]["how_to_get"]
    assert by["mnist"]["looked"] == [str(isolated / "mnist"), str(isolated.parent / "xdg-cache" / "sparsenet" / "mnist")]
    assert by["mnist1d"]["found"] and by["synthetic"]["found"]
    assert by["mnist1d"]["status"] == "generated"


def test_corrupt_header_reported_not_raised(isolated, no_decoding):
    d = write_fake_mnist(isolated / "fashion-mnist", gz=False)
    p = d / "t10k-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-1])
    row = {r["name"]: r for r in describe_datasets()}["fashion-mnist"]
    assert not row["found"] and row["status"] == "corrupt" and row["location"] == str(d)
    assert "t10k-images-idx3-ubyte" in row["detail"] and "truncated" in row["detail"]


def test_gz_isize_checked(isolated, no_decoding):
    d = write_fake_mnist(isolated / "fashion-mnist", n_train=50, gz=True)
    p = d / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-3])
    row = {r["name"]: r for r in describe_datasets()}["fashion-mnist"]
    assert row["status"] == "corrupt" and "train-images-idx3-ubyte.gz" in row["detail"]


def test_label_count_mismatch_seen_in_headers(isolated, no_decoding):
    write_fake_mnist(isolated / "mnist", n_train=4, train_labels=[1, 2, 3])
    row = {r["name"]: r for r in describe_datasets()}["mnist"]
    assert row["status"] == "corrupt" and "3 labels" in row["detail"]


def test_explicit_data_dir(isolated, tmp_path):
    write_fake_mnist(tmp_path / "d" / "mnist", n_train=2)
    by = {r["name"]: r for r in describe_datasets(tmp_path / "d")}
    assert by["mnist"]["found"] and by["mnist"]["location"] == str(tmp_path / "d" / "mnist")
    assert by["fashion-mnist"]["looked"] == [str(tmp_path / "d" / "fashion-mnist"), str(tmp_path / "d")]


def test_table(isolated):
    write_fake_mnist(isolated / "fashion-mnist")
    text = format_dataset_table(describe_datasets())
    lines = text.splitlines()
    assert lines[0].split() == ["dataset", "status", "location", "detail"]
    table = {ln.split()[0]: ln.split()[1] for ln in lines[2:8]}
    assert table == {"cifar10": "missing", "cifar100": "missing", "fashion-mnist": "found", "mnist": "missing",
                     "mnist1d": "generated", "synthetic": "generated"}
    assert str(isolated / "fashion-mnist") in lines[4]
    assert "mnist: to get it: put the four IDX files" in text
    assert f"mnist: looked in {isolated / 'mnist'}" in text
    assert all(ln == ln.rstrip() for ln in lines)
