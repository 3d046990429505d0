"""The data seed of generated datasets: its default is the generator's own (mnist1d: the package's
42), it is resolved in one place (`data_seed`), and `sparsenet data` says it."""
import torch

from sparsenet.cli import main
from sparsenet.data import data_seed, describe_datasets, load_dataset
from sparsenet.data.generated import MNIST1D_DEFAULT_SEED, make_mnist1d


def test_mnist1d_default_seed_is_the_installed_packages():
    from mnist1d.data import get_dataset_args

    assert MNIST1D_DEFAULT_SEED == get_dataset_args().seed == 42


def test_data_seed_resolves_defaults_and_ignores_file_datasets():
    assert data_seed("mnist1d") == 42 and data_seed("MNIST-1D", None) == 42
    assert data_seed("mnist1d", 7) == 7
    assert data_seed("synthetic") == 0 and data_seed("synthetic", 3) == 3
    assert data_seed("fashion-mnist") is None and data_seed("fashion-mnist", 5) is None


def test_load_dataset_without_seed_uses_the_generator_default():
    dflt = load_dataset("mnist1d")
    assert "seed=42" in dflt.source
    same = make_mnist1d(seed=42)
    other = load_dataset("mnist1d", seed=0)
    assert torch.equal(dflt.x_train, same.x_train) and torch.equal(dflt.y_test, same.y_test)
    assert not torch.equal(dflt.x_train, other.x_train)
    assert torch.equal(load_dataset("synthetic").x_train, load_dataset("synthetic", seed=0).x_train)


def test_describe_and_data_command_state_the_default_seed(capsys):
    rows = {r["name"]: r for r in describe_datasets()}
    assert rows["mnist1d"]["default_seed"] == 42 and rows["synthetic"]["default_seed"] == 0
    assert main(["data"]) in (0, None)
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("mnist1d"))
    assert "data seed 42" in line and "--data-seed" in line
