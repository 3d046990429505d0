"""SparseLinear under torch.compile (a graph break around the kernels) and export (through
`export_dense`, or a one-line message that says so)."""
import doctest

import pytest
import torch
from torch import nn

import sparsenet.nn.convert as convert_module
import sparsenet.nn.sparse_linear as sparse_linear_module
from sparsenet.errors import SparsenetError
from sparsenet.nn import SparseLinear, export_dense


def _model(seed=0):
    torch.manual_seed(seed)
    layer = SparseLinear.random(20, 12, 0.3, generator=torch.Generator().manual_seed(seed))
    return nn.Sequential(layer, nn.Tanh(), nn.Linear(12, 3))


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_torch_compile_forward_and_backward_match_eager(backend):
    torch._dynamo.reset()
    eager, compiled_src = _model(), _model()
    compiled = torch.compile(compiled_src, backend=backend)
    x = torch.randn(7, 20)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y1, y2 = eager(x1), compiled(x2)
    torch.testing.assert_close(y2, y1)
    g = torch.randn_like(y1)
    y1.backward(g)
    y2.backward(g)
    torch.testing.assert_close(x2.grad, x1.grad)
    for (n, p1), p2 in zip(eager.named_parameters(), compiled_src.parameters()):
        torch.testing.assert_close(p2.grad, p1.grad, msg=n)
    assert eager[0].values.grad.shape == (eager[0].nnz,)  # the gradient stays O(nnz)


@pytest.mark.parametrize("export", [
    lambda m, x: torch.export.export(m, (x,)),
    lambda m, x: torch.jit.script(m),
    lambda m, x: torch.jit.trace(m, (x,)),
], ids=["torch.export", "jit.script", "jit.trace"])
def test_export_of_sparse_model_says_what_to_do_in_one_line(export):
    model, x = _model(), torch.randn(2, 20)
    with pytest.raises(SparsenetError) as e:
        export(model, x)
    msg = str(e.value)
    assert "export_dense(model)" in msg and "\n" not in msg


def test_export_dense_exports_and_keeps_the_outputs():
    model, x = _model(), torch.randn(4, 20)
    dense = export_dense(model)
    assert isinstance(model[0], SparseLinear)  # the original is left alone
    assert isinstance(dense[0], nn.Linear) and not isinstance(dense[0], SparseLinear)
    assert int((dense[0].weight != 0).sum()) <= model[0].nnz
    with torch.no_grad():
        want = model(x)
        torch.testing.assert_close(dense(x), want)
        program = torch.export.export(dense, (x,))
        torch.testing.assert_close(program.module()(x), want)
        torch.testing.assert_close(torch.jit.script(dense)(x), want)


def test_export_dense_of_a_bare_layer_and_its_device():
    layer = SparseLinear.from_dense(torch.tensor([[0., 2., 0.], [1., 0., 0.]]), torch.tensor([1., -1.]))
    lin = export_dense(layer)
    assert isinstance(lin, nn.Linear) and lin.weight.tolist() == [[0., 2., 0.], [1., 0., 0.]]
    assert lin.weight.device == layer.values.device and lin.weight.dtype == layer.values.dtype
    assert lin(torch.tensor([[1., 1., 1.]])).tolist() == [[3., 0.]]  # hand-computed: 2+1, 1-1


def test_sparse_linear_docstring_examples_run():
    for mod in (sparse_linear_module, convert_module):
        assert doctest.testmod(mod, raise_on_error=False).failed == 0
