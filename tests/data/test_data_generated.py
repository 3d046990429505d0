"""MNIST-1D (offline, via the mnist1d package) and the synthetic dataset."""
import random
import socket
import urllib.request

import numpy as np
import pytest
import torch

from sparsenet.data import load_dataset
from sparsenet.data.generated import make_mnist1d, make_synthetic


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    requests = pytest.importorskip("requests")
    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)


def test_mnist1d_default_shapes_offline(no_network, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # mnist1d's get_dataset would write ./mnist1d_data.pkl here
    ds = load_dataset("mnist1d", seed=0)
    assert ds.x_train.shape == (4000, 40) and ds.x_test.shape == (1000, 40)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert ds.num_classes == 10 and ds.input_shape == (40,)
    assert set(ds.y_train.tolist()) == set(range(10))
    assert torch.isfinite(ds.x_train).all()
    assert "seed=0" in ds.source
    assert list(tmp_path.iterdir()) == []  # nothing cached


def test_mnist1d_deterministic_per_seed(no_network):
    a, b, c = make_mnist1d(seed=3, num_samples=200), make_mnist1d(seed=3, num_samples=200), make_mnist1d(seed=4, num_samples=200)
    assert a.x_train.shape == (160, 40) and a.x_test.shape == (40, 40)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    assert torch.equal(a.x_test, b.x_test) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, c.x_train)


def test_mnist1d_leaves_global_rng_alone():
    random.seed(123)
    np.random.seed(123)
    expected = (random.random(), np.random.rand())
    random.seed(123)
    np.random.seed(123)
    make_mnist1d(seed=0, num_samples=50)
    assert (random.random(), np.random.rand()) == expected


def test_synthetic_deterministic_and_shapes():
    a, b, c = load_dataset("synthetic", seed=1), load_dataset("synthetic", seed=1), load_dataset("synthetic", seed=2)
    assert a.x_train.shape == (2000, 64) and a.x_test.shape == (500, 64)
    assert a.x_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, c.x_train)
    assert torch.bincount(a.y_train, minlength=10).tolist() == [200] * 10  # balanced
    assert torch.bincount(a.y_test, minlength=10).tolist() == [50] * 10
    assert a.source == "generated (seed=1)"
    assert 0.8 < a.x_train.std().item() < 1.2  # about unit variance per feature


def test_synthetic_does_not_touch_torch_global_rng():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    make_synthetic(seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_synthetic_is_learnable_by_logistic_regression():
    ds = load_dataset("synthetic", seed=0)
    w = torch.zeros(64, 10, requires_grad=True)
    b = torch.zeros(10, requires_grad=True)
    for _ in range(200):  # full-batch gradient descent on the cross-entropy
        loss = torch.nn.functional.cross_entropy(ds.x_train @ w + b, ds.y_train)
        gw, gb = torch.autograd.grad(loss, (w, b))
        with torch.no_grad():
            w -= 0.5 * gw
            b -= 0.5 * gb
    with torch.no_grad():
        acc = ((ds.x_test @ w + b).argmax(1) == ds.y_test).float().mean().item()
    assert acc > 0.8, acc
