"""The CUDA path (torch.sparse / cuSPARSE) against the dense oracle; skipped without a GPU."""
import pytest
import torch

from sparsenet.nn import SparseLinear

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize("batch", [1, 64])
def test_sparse_linear_on_cuda_matches_dense(batch):
    layer = SparseLinear.random(300, 200, 0.05, generator=torch.Generator().manual_seed(0)).cuda()
    assert layer.pattern.crow.is_cuda
    x = torch.randn(batch, 300, device="cuda", requires_grad=True)
    dense = layer.to_dense()
    y = layer(x)
    torch.testing.assert_close(y, x @ dense.t() + layer.bias, rtol=1e-4, atol=1e-4)
    g = torch.randn_like(y)
    y.backward(g)
    torch.testing.assert_close(x.grad, g @ dense, rtol=1e-4, atol=1e-4)
    full = g.t() @ x.detach()
    torch.testing.assert_close(layer.values.grad, full[layer.row, layer.col.long()], rtol=1e-4, atol=1e-4)


def test_sparse_linear_built_and_loaded_on_cuda_keeps_every_tensor_there():
    from sparsenet.errors import SparsenetError

    w = torch.randn(6, 5, device="cuda")
    w[w.abs() < 0.5] = 0
    layer = SparseLinear.from_dense(w, torch.zeros(6, device="cuda"))
    for name in ("crow", "col", "tcrow", "trow", "tperm", "values", "bias"):
        assert getattr(layer, name).is_cuda, name
    assert layer.mask().is_cuda and layer.to_linear().weight.is_cuda
    cpu_state = {k: v.cpu() for k, v in layer.state_dict().items()}
    layer.load_state_dict(cpu_state)  # a CPU checkpoint into a CUDA layer
    torch.testing.assert_close(layer.to_dense(), w)
    with pytest.raises(SparsenetError, match="numba"):
        SparseLinear.from_dense(w, kernel="numba")(torch.randn(2, 5, device="cuda"))
