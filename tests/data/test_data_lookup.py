"""Where file datasets are looked for: data_dir > dataset env var > SPARSENET_DATA_DIR > standard."""
import pytest

from sparsenet.data import DataError, load_dataset
from sparsenet.data.fakes import write_fake_cifar10, write_fake_mnist
from sparsenet.errors import SparsenetError

# Each copy has a different number of training images, so len(x_train) tells which was read.


def test_explicit_dir_beats_env_beats_standard(isolated, tmp_path, monkeypatch):
    write_fake_mnist(isolated / "fashion-mnist", n_train=3)  # standard
    write_fake_mnist(tmp_path / "env", n_train=4)
    write_fake_mnist(tmp_path / "explicit", n_train=5)

    assert len(load_dataset("fashion-mnist").x_train) == 3
    assert load_dataset("fashion-mnist").source == str(isolated / "fashion-mnist")

    monkeypatch.setenv("SPARSENET_FASHION_MNIST_DIR", str(tmp_path / "env"))
    assert len(load_dataset("fashion-mnist").x_train) == 4

    ds = load_dataset("fashion-mnist", tmp_path / "explicit")
    assert len(ds.x_train) == 5 and ds.source == str(tmp_path / "explicit")


def test_specific_env_beats_data_dir_env(isolated, tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "root" / "mnist", n_train=4)
    write_fake_mnist(tmp_path / "only-mnist", n_train=5)
    monkeypatch.setenv("SPARSENET_DATA_DIR", str(tmp_path / "root"))
    assert len(load_dataset("mnist").x_train) == 4
    monkeypatch.setenv("SPARSENET_MNIST_DIR", str(tmp_path / "only-mnist"))
    assert len(load_dataset("mnist").x_train) == 5


def test_data_dir_env_beats_standard_and_accepts_files_in_root(isolated, tmp_path, monkeypatch):
    write_fake_mnist(isolated / "fashion-mnist", n_train=3)
    write_fake_mnist(tmp_path / "root", n_train=6)  # files directly in the root
    monkeypatch.setenv("SPARSENET_DATA_DIR", str(tmp_path / "root"))
    assert len(load_dataset("fashion-mnist").x_train) == 6
    write_fake_mnist(tmp_path / "root" / "fashion-mnist", n_train=7)  # the subfolder wins over the root
    assert len(load_dataset("fashion-mnist").x_train) == 7


def test_data_dir_may_be_parent_or_folder(isolated, tmp_path):
    write_fake_mnist(tmp_path / "parent" / "mnist", n_train=4)
    assert len(load_dataset("mnist", tmp_path / "parent").x_train) == 4
    assert len(load_dataset("mnist", str(tmp_path / "parent" / "mnist")).x_train) == 4


def test_cifar10_env_dir_with_batches_subfolder(isolated, tmp_path, monkeypatch):
    write_fake_cifar10(tmp_path / "c" / "cifar-10-batches-py", n=2)
    monkeypatch.setenv("SPARSENET_CIFAR10_DIR", str(tmp_path / "c"))
    ds = load_dataset("cifar10")
    assert len(ds.x_train) == 10 and ds.source == str(tmp_path / "c" / "cifar-10-batches-py")


@pytest.mark.parametrize("sub", ["cifar-10-batches-py", "cifar-10/cifar-10-batches-py", "cifar-10"])
def test_cifar10_root_layouts(isolated, tmp_path, monkeypatch, sub):
    write_fake_cifar10(tmp_path / "root" / sub, n=3)
    monkeypatch.setenv("SPARSENET_DATA_DIR", str(tmp_path / "root"))
    assert load_dataset("cifar10").source == str(tmp_path / "root" / sub)


def test_cache_dir_is_a_standard_location(isolated, tmp_path):
    write_fake_mnist(tmp_path / "xdg-cache" / "sparsenet" / "mnist", n_train=2)
    assert len(load_dataset("mnist").x_train) == 2


def test_home_cache_when_xdg_unset(isolated, tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    write_fake_mnist(tmp_path / "home" / ".cache" / "sparsenet" / "mnist", n_train=2)
    assert load_dataset("mnist").source == str(tmp_path / "home" / ".cache" / "sparsenet" / "mnist")


def test_explicit_dir_never_falls_back(isolated, tmp_path):
    write_fake_mnist(isolated / "fashion-mnist", n_train=3)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as ei:
        load_dataset("fashion-mnist", tmp_path / "empty")
    msg = str(ei.value)
    assert str(tmp_path / "empty" / "fashion-mnist") in msg
    assert str(isolated) not in msg  # the standard location was not looked at


def test_missing_message_lists_every_place_in_order_and_how_to(isolated, tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSENET_FASHION_MNIST_DIR", str(tmp_path / "env-specific"))
    monkeypatch.setenv("SPARSENET_DATA_DIR", str(tmp_path / "env-root"))
    with pytest.raises(DataError) as ei:
        load_dataset("fashion-mnist")
    msg = str(ei.value)
    assert "\n" not in msg and "fashion-mnist" in msg
    places = [
        tmp_path / "env-specific",
        tmp_path / "env-root" / "fashion-mnist",
        tmp_path / "env-root",
        isolated / "fashion-mnist",
        tmp_path / "xdg-cache" / "sparsenet" / "fashion-mnist",
    ]
    positions = [msg.find(str(p) + s) for p, s in zip(places, [";", ",", ";", ",", ";"])]
    assert -1 not in positions and positions == sorted(positions), msg
    assert ei.value.looked == [str(p) for p in places]
    assert "apt-get install -y dataset-fashion-mnist" in msg and "--data-dir" in msg


def test_missing_mnist_and_cifar_how_to(isolated, tmp_path):
    with pytest.raises(DataError) as ei:
        load_dataset("mnist")
    msg = str(ei.value)
    assert "put the four IDX files (each raw or .gz) in a dir and pass --data-dir DIR" in msg
    assert "SPARSENET_MNIST_DIR and SPARSENET_DATA_DIR not set" in msg
    for name in ("cifar10", "cifar100"):
        with pytest.raises(DataError) as ei:
            load_dataset(name, tmp_path / "nowhere")
        msg = str(ei.value)
        assert "\n" not in msg and "python version" in msg and "--data-dir" in msg
        assert str(tmp_path / "nowhere") + ";" in msg  # the root itself is the last place looked


def test_incomplete_dir_stops_the_search(isolated, tmp_path, monkeypatch):
    write_fake_mnist(isolated / "mnist", n_train=3)
    partial = write_fake_mnist(tmp_path / "partial")
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("SPARSENET_MNIST_DIR", str(partial))
    with pytest.raises(DataError, match=r"partial \(\$SPARSENET_MNIST_DIR\) is incomplete: .* lacks t10k-labels-idx1-ubyte"):
        load_dataset("mnist")


def test_names_aliases_and_unknown(isolated, tmp_path):
    write_fake_mnist(tmp_path, n_train=2)
    for alias in ("fashion_mnist", "FMNIST", "Fashion-MNIST", "fashionmnist"):
        assert load_dataset(alias, tmp_path).name == "fashion-mnist"
    with pytest.raises(SparsenetError, match="unknown dataset 'imagenet'; valid datasets: cifar10, cifar100, "
                                            "fashion-mnist, mnist, mnist1d, synthetic"):
        load_dataset("imagenet")
