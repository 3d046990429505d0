"""The `Dataset` container: shapes, flat, subset, validation; docstring examples run."""
import doctest

import pytest
import torch

import sparsenet.data
import sparsenet.data.dataset
import sparsenet.data.fakes
import sparsenet.data.idx
from sparsenet.data import DataError, Dataset
from sparsenet.errors import ConfigError


def _tiny() -> Dataset:
    x_tr = torch.arange(5 * 2 * 3, dtype=torch.float32).reshape(5, 1, 2, 3)
    x_te = -torch.arange(2 * 6, dtype=torch.float32).reshape(2, 1, 2, 3)
    return Dataset("tiny", x_tr, torch.tensor([0, 1, 2, 0, 1]), x_te, torch.tensor([2, 2]), 3, "here")


def test_public_names():
    for name in sparsenet.data.__all__:
        assert getattr(sparsenet.data, name) is not None
    assert sparsenet.data.dataset_names() == ["cifar10", "cifar100", "fashion-mnist", "mnist", "mnist1d", "synthetic"]


def test_shapes_and_flat():
    ds = _tiny()
    assert ds.input_shape == (1, 2, 3) and ds.in_features == 6
    f = ds.flat()
    assert f.x_train.shape == (5, 6) and f.x_test.shape == (2, 6)
    assert f.x_train[1].tolist() == [6, 7, 8, 9, 10, 11]
    assert f.input_shape == (6,) and f.in_features == 6
    assert f.name == "tiny" and f.num_classes == 3 and f.source == "here"
    assert ds.x_train.shape == (5, 1, 2, 3)  # the original is unchanged
    assert f.flat().x_train.shape == (5, 6)


def test_subset_takes_the_first_samples():
    ds = _tiny()
    s = ds.subset(2, 1)
    assert s.y_train.tolist() == [0, 1] and s.y_test.tolist() == [2]
    assert torch.equal(s.x_train, ds.x_train[:2]) and torch.equal(s.x_test, ds.x_test[:1])
    assert s.x_train.untyped_storage().nbytes() == 2 * 6 * 4  # cloned, not a view of all 5
    all_ = ds.subset()
    assert len(all_.x_train) == 5 and len(all_.x_test) == 2
    assert ds.subset(n_test=0).x_test.shape == (0, 1, 2, 3)


@pytest.mark.parametrize("kw", [dict(n_train=6), dict(n_test=3), dict(n_train=-1), dict(n_train=1.5), dict(n_test=True)])
def test_subset_rejects_bad_sizes(kw):
    arg = next(iter(kw))
    with pytest.raises(ConfigError, match=arg):
        _tiny().subset(**kw)


def test_validation():
    x, y = torch.zeros(3, 4), torch.zeros(3, dtype=torch.long)
    with pytest.raises(DataError, match="x_train"):
        Dataset("bad", x, y[:2], x, y, 2, "s")
    with pytest.raises(DataError, match="differ in shape"):
        Dataset("bad", x, y, torch.zeros(3, 5), y, 2, "s")


def test_repr_is_short():
    r = repr(_tiny())
    assert r == "Dataset(name='tiny', train=5, test=2, input_shape=(1, 2, 3), num_classes=3, source='here')"


@pytest.mark.parametrize("module", [sparsenet.data, sparsenet.data.dataset, sparsenet.data.idx, sparsenet.data.fakes])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
