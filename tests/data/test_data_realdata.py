"""The real Fashion-MNIST from the Debian package `dataset-fashion-mnist`, when installed."""
from pathlib import Path

import pytest
import torch

from sparsenet.data import describe_datasets, load_dataset

FASHION = Path("/usr/share/datasets/fashion-mnist")

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        not FASHION.is_dir(),
        reason=f"{FASHION} is absent: apt-get install -y dataset-fashion-mnist to run the real-data tests",
    ),
]


@pytest.fixture(scope="module")
def fashion():
    return load_dataset("fashion-mnist", FASHION)


def test_fashion_mnist_real(fashion):
    ds = fashion
    assert ds.x_train.shape == (60000, 1, 28, 28) and ds.x_test.shape == (10000, 1, 28, 28)
    assert ds.input_shape == (1, 28, 28) and ds.in_features == 784 and ds.num_classes == 10
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert ds.x_test.min() >= 0.0 and ds.x_test.max() <= 1.0
    # Fashion-MNIST is balanced: 6000 train and 1000 test images per class
    assert torch.bincount(ds.y_train, minlength=10).tolist() == [6000] * 10
    assert torch.bincount(ds.y_test, minlength=10).tolist() == [1000] * 10
    assert ds.flat().x_train.shape == (60000, 784)


def test_fashion_mnist_describe_real():
    row = {r["name"]: r for r in describe_datasets(FASHION)}["fashion-mnist"]
    assert row["found"] and row["detail"] == "60000 train / 10000 test, 1x28x28, 10 classes"
