"""`SparseLinear.linear_relu` and the MLP's fused relu at inference: the same numbers as
``torch.relu(layer(x))``, and the unfused path wherever hooks, autograd or tracing need it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsenet.kernels.backends import BACKENDS
from sparsenet.kernels.codegen import load
from sparsenet.models import MLP
from sparsenet.nn import SparseLinear, sparse_mlp


def _layer(kernel: str, dtype=torch.float32, n_in: int = 70, n_out: int = 90, density: float = 0.2):
    layer = SparseLinear.random(n_in, n_out, density, generator=torch.Generator().manual_seed(0), kernel=kernel)
    return layer.to(dtype)


@pytest.mark.parametrize("kernel", ["numba", "torch", "reference"])
@pytest.mark.parametrize("batch", [1, 5, 130])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_linear_relu_matches_relu_of_the_layer(kernel, batch, dtype):
    layer = _layer(kernel, dtype)
    x = torch.randn(batch, 70, dtype=dtype)
    with torch.no_grad():
        ref = torch.relu(x @ layer.to_dense().t() + layer.bias)
        got = layer.linear_relu(x)
    assert got.shape == (batch, 90) and got.dtype == dtype
    torch.testing.assert_close(got, ref)
    assert (got >= 0).all() and (ref == 0).any()  # the clamp did something


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_the_relu_kernel_keeps_nan_and_clamps_everything_else(parallel):
    k = load()
    a = np.array([-1.0, 0.0, -0.0, 2.5, np.nan, -np.inf, np.inf, -1e-30] * 3, np.float32)
    ref = torch.relu(torch.from_numpy(a.copy())).numpy()
    (k.relu if parallel else k.relu_serial)(a)
    np.testing.assert_array_equal(a, ref)  # NaN stays NaN (array_equal treats NaNs as equal here)
    assert np.isnan(a[4]) and (a[~np.isnan(a)] >= 0).all()


def test_mlp_inference_uses_the_fused_call_and_matches_training_mode():
    torch.manual_seed(0)
    model = sparse_mlp([30, 40, 20, 5], 0.3, "relu", generator=torch.Generator().manual_seed(1))
    x = torch.randn(17, 30)
    calls = []
    for layer in model.layers[:2]:
        real = type(layer).linear_relu
        layer.linear_relu = lambda x, _l=layer, _f=real: calls.append(_l) or _f(_l, x)
    with torch.no_grad():
        fused = model(x)
    assert len(calls) == 2  # both hidden layers, not the output layer
    expect = model(x)  # grad mode: autograd path, relu as a separate op
    torch.testing.assert_close(fused, expect.detach())
    assert expect.requires_grad


def test_a_forward_hook_sees_the_pre_activation_so_fusion_steps_aside():
    model = sparse_mlp([30, 40, 5], 0.5, "relu", generator=torch.Generator().manual_seed(1))
    seen = []
    h = model.layers[0].register_forward_hook(lambda m, i, o: seen.append(o.clone()))
    x = torch.randn(8, 30)
    with torch.no_grad():
        out = model(x)
    h.remove()
    assert len(seen) == 1 and (seen[0] < 0).any()  # the layer's own output, before relu
    with torch.no_grad():
        torch.testing.assert_close(model(x), out)


def test_a_global_forward_hook_also_disables_fusion():
    model = sparse_mlp([30, 40, 5], 0.5, "relu", generator=torch.Generator().manual_seed(1))
    seen = []
    h = torch.nn.modules.module.register_module_forward_hook(
        lambda m, i, o: seen.append(type(m).__name__))
    try:
        with torch.no_grad():
            model(torch.randn(4, 30))
    finally:
        h.remove()
    assert seen.count("SparseLinear") == 2  # every layer's call went through Module.__call__


def test_other_activations_and_dense_layers_keep_the_plain_path():
    torch.manual_seed(0)
    mixed = sparse_mlp([30, 40, 20, 5], 0.3, "relu", dense_last=True, generator=torch.Generator().manual_seed(1))
    mixed.layers[1] = torch.nn.Linear(40, 20)  # a dense hidden layer between sparse ones
    x = torch.randn(6, 30)
    with torch.no_grad():
        h = torch.relu(mixed.layers[0](x))
        ref = mixed.layers[2](torch.relu(mixed.layers[1](h)))
        torch.testing.assert_close(mixed(x), ref)
    tanh = sparse_mlp([30, 40, 5], 0.3, "tanh", generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(tanh(x), tanh.layers[1](torch.tanh(tanh.layers[0](x))))


def test_a_dense_mlp_is_unchanged():
    torch.manual_seed(0)
    model = MLP([30, 40, 5], "relu")
    x = torch.randn(6, 30)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.layers[1](torch.relu(model.layers[0](x))))


def test_linear_relu_checks_its_input():
    layer = _layer("numba")
    with torch.no_grad(), pytest.raises(Exception, match="expects input"):
        layer.linear_relu(torch.randn(3, 71))


def test_backend_linear_relu_for_every_registered_backend():
    layer = _layer("reference")
    x = torch.randn(9, 70)
    ref = torch.relu(x @ layer.to_dense().t() + layer.bias).detach()
    for name in BACKENDS.names():
        be = BACKENDS.get(name)
        with torch.no_grad():
            torch.testing.assert_close(be.linear(layer.pattern, layer.values, x, layer.bias, relu=True), ref)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@pytest.mark.parametrize("kernel", ["numba", "torch", "reference"])
@pytest.mark.parametrize("n_in, n_out, batch", [(5, 0, 3), (0, 4, 3), (5, 4, 0), (5, 4, 1)])
def test_linear_relu_edge_shapes_and_inference_mode(kernel, n_in, n_out, batch):
    torch.manual_seed(0)
    lin = torch.nn.Linear(n_in, n_out)
    layer = SparseLinear.from_linear(lin, torch.rand(n_out, n_in) < 0.5)
    layer.kernel = kernel
    x = torch.randn(batch, n_in)
    with torch.no_grad():
        ref = torch.relu(x @ layer.to_dense().t() + layer.bias)
        torch.testing.assert_close(layer.linear_relu(x), ref)
    with torch.inference_mode():
        got = layer.linear_relu(x)
    assert got.shape == (batch, n_out)
    torch.testing.assert_close(got, ref)


def test_a_subclass_with_its_own_forward_keeps_it():
    class Scaled(SparseLinear):
        def forward(self, x):
            return 2 * super().forward(x)

    base = _layer("numba")
    layer = Scaled(base.in_features, base.out_features, base.pattern.crow, base.pattern.col,
                   base.values.detach().clone(), base.bias.detach().clone())
    x = torch.randn(4, 70)
    with torch.no_grad():
        torch.testing.assert_close(layer.linear_relu(x), torch.relu(2 * base(x)))
