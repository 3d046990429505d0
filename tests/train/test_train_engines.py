"""The fused batch-1 kernel against autograd + torch.optim.SGD on the same model."""
import copy

import numpy as np
import pytest
import torch

from sparsenet.kernels.online import tanh_inplace
from sparsenet.models import MLP
from sparsenet.nn import sparsify
from sparsenet.train import FusedEngine, SampleStream, TorchEngine


@pytest.mark.parametrize("act", ["tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("sparse_layers", [(), (0,), (0, 1), (0, 1, 2)])
def test_fused_matches_autograd(act, sparse_layers):
    torch.manual_seed(0)
    X, Y = torch.rand(300, 20), torch.randint(0, 5, (300,))
    model = MLP([20, 16, 8, 5], act)
    masks = {}
    for l in sparse_layers:
        w = model.layers[l].weight
        m = torch.rand(w.shape) < 0.4
        m[1] = False  # an empty row
        masks[f"layers.{l}.weight"] = m
        with torch.no_grad():
            w.mul_(m)
    sparsify(model, masks)
    twin = copy.deepcopy(model)
    fused = FusedEngine(model, 0.05)
    ref = TorchEngine(twin, torch.optim.SGD(twin.parameters(), lr=0.05))
    order = torch.arange(150)
    l1, n1 = fused.train(X, Y, order, 1)
    l2, n2 = ref.train(X, Y, order, 1)
    assert n1 == n2 == 150
    assert abs(l1 - l2) < 1e-3 * abs(l2)
    for (k, a), b in zip(model.state_dict().items(), twin.state_dict().values()):
        torch.testing.assert_close(a, b, atol=2e-6, rtol=1e-4, msg=k)


def test_fused_stops_before_updating_on_nonfinite_loss():
    torch.manual_seed(0)
    model = MLP([4, 3, 2], "relu")
    X = torch.ones(3, 4)
    X[1] = float("nan")
    before = copy.deepcopy(model.state_dict())
    eng = FusedEngine(model, 0.1)
    _, done = eng.train(X, torch.zeros(3, dtype=torch.long), torch.tensor([1, 0, 2]), 1)
    assert done == 0
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_rational_tanh_accuracy():
    x = np.linspace(-20, 20, 200001).astype(np.float32)
    y = x.copy()
    tanh_inplace(y, y.size)
    assert np.abs(y.astype(np.float64) - np.tanh(x.astype(np.float64))).max() < 1e-6
    assert np.all(np.abs(y) <= 1)


def test_sample_stream_is_a_permutation_per_epoch_and_resumable():
    s = SampleStream(10, seed=3)
    first = s.take(0, 25)
    assert sorted(first[:10].tolist()) == list(range(10))
    assert sorted(first[10:20].tolist()) == list(range(10))
    assert torch.equal(SampleStream(10, seed=3).take(7, 11), first[7:18])
    assert not torch.equal(SampleStream(10, seed=4).take(0, 10), first[:10])
