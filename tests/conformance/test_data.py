"""Every registered dataset that is usable here (generated ones always; file ones when installed,
else skipped saying how to get them): float32 inputs of one per-sample shape, int64 labels in
[0, num_classes), non-empty splits, and the same data for the same seed."""
import pytest
import torch

from sparsenet.data import load_dataset
from sparsenet.data.sources import DATASETS


def check_dataset(name: str) -> None:
    spec = DATASETS.get(name)
    if not spec.describe()["found"]:
        pytest.skip(f"{name} is not installed here: {spec.how_to_get}")
    a, b = load_dataset(name, seed=1), load_dataset(name, seed=1)
    for x, y in ((a.x_train, a.y_train), (a.x_test, a.y_test)):
        assert len(x) == len(y) > 0
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert tuple(x.shape[1:]) == tuple(a.input_shape)
        assert int(y.min()) >= 0 and int(y.max()) < a.num_classes
        assert bool(torch.isfinite(x).all())
    assert a.in_features == int(torch.tensor(a.input_shape).prod())
    for t in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(a, t), getattr(b, t)), (name, t)
    if spec.kind == "generated":
        c = load_dataset(name, seed=2)
        assert not torch.equal(a.x_train, c.x_train), f"{name}: the seed changes nothing"


def test_dataset_contract(dataset):
    check_dataset(dataset)
