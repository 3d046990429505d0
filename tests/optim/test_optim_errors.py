"""Bad input to the second-order optimizers: one-line SparsenetError subclasses, parameters untouched."""
import pytest
import torch

from sparsenet.errors import ConfigError, SparsenetError
from sparsenet.optim import (ClosureError, HessianFreeNewton, KrylovSaddleFreeNewton, MixedDeviceError, NonFiniteError,
                             ParamSpace, SaddleFreeNewton, exact_hessian)

OPTIMIZERS = [
    lambda ps: SaddleFreeNewton(ps),
    lambda ps: SaddleFreeNewton(ps, hessian="block"),
    lambda ps: KrylovSaddleFreeNewton(ps, k=2),
    lambda ps: KrylovSaddleFreeNewton(ps, k=2, hvp="fd"),
    lambda ps: HessianFreeNewton(ps),
    lambda ps: HessianFreeNewton(ps, hvp="fd"),
]


def one_line(e) -> str:
    msg = str(e.value)
    assert "\n" not in msg and isinstance(e.value, SparsenetError)
    return msg


@pytest.mark.parametrize("make", OPTIMIZERS)
@pytest.mark.parametrize("closure_kind, error, needle", [
    ("none", ClosureError, "closure"),
    ("float", ClosureError, "scalar loss tensor"),
    ("vector", ClosureError, "shape (3,)"),
    ("detached", ClosureError, "graph"),
    ("backward", ClosureError, "backward()"),
    ("nan", NonFiniteError, "NaN"),
    ("inf", NonFiniteError, "inf"),
])
def test_bad_closures(make, closure_kind, error, needle):
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64))
    opt = make([w])
    closures = {
        "none": None,
        "float": lambda: float((w ** 2).sum()),
        "vector": lambda: w ** 2,
        "detached": lambda: (w ** 2).sum().detach(),
        "backward": lambda: _backward((w ** 4).sum()),
        "nan": lambda: (w ** 2).sum() * float("nan"),
        "inf": lambda: (w ** 2).sum() + float("inf"),
    }
    with pytest.raises(error) as e:
        opt.step(closures[closure_kind])
    assert needle in one_line(e)
    assert w.tolist() == [1.0, -2.0, 0.5]


def _backward(loss):
    loss.backward()
    return loss


def test_non_finite_hessian_is_refused():
    # sqrt has an infinite second derivative at 0 while the loss (0) and gradient (sqrt' * 0 ...) behave.
    w = torch.nn.Parameter(torch.tensor([0.0, 1.0], dtype=torch.float64))
    with pytest.raises(NonFiniteError) as e:
        exact_hessian(lambda: (w.abs() ** 1.5).sum(), [w])
    assert "Hessian" in one_line(e)


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_mixed_devices_are_refused(make):
    a = torch.nn.Parameter(torch.zeros(2))
    b = torch.nn.Parameter(torch.zeros(2, device="meta"))
    with pytest.raises(MixedDeviceError) as e:
        make([a, b])
    assert "cpu" in one_line(e) and "meta" in str(e.value)


def test_integer_frozen_or_mixed_dtype_parameters_are_refused():
    with pytest.raises(ConfigError, match="floating-point"):
        ParamSpace([torch.zeros(3, dtype=torch.int64)])
    with pytest.raises(ConfigError, match="requires_grad=True"):
        SaddleFreeNewton([torch.zeros(3)])
    with pytest.raises(ConfigError, match="model.double"):
        SaddleFreeNewton([torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))])


@pytest.mark.parametrize("make, name", [
    (lambda ps: SaddleFreeNewton(ps, damping=0), "damping"),
    (lambda ps: KrylovSaddleFreeNewton(ps, k=1, damping=-1), "damping"),
    (lambda ps: HessianFreeNewton(ps, damping=0.0), "damping"),
    (lambda ps: SaddleFreeNewton(ps, lr=0), "lr"),
    (lambda ps: KrylovSaddleFreeNewton(ps, k=0), "k=0"),
    (lambda ps: KrylovSaddleFreeNewton(ps, k=4), "k=4 exceeds the 3 parameters"),
    (lambda ps: KrylovSaddleFreeNewton(ps, hvp="gn"), "exact, fd"),
    (lambda ps: HessianFreeNewton(ps, cg_iters=0), "cg_iters"),
])
def test_bad_settings(make, name):
    w = torch.nn.Parameter(torch.zeros(3))
    with pytest.raises(ConfigError) as e:
        make([w])
    assert name in one_line(e)


def test_krylov_dimension_counts_live_weights_only():
    w = torch.nn.Parameter(torch.zeros(4))
    with pytest.raises(ConfigError, match="exceeds the 2 parameters"):
        KrylovSaddleFreeNewton([{"params": [w], "masks": [torch.tensor([True, False, True, False])]}], k=3)


def test_bad_mask_shape():
    w = torch.nn.Parameter(torch.zeros(4))
    with pytest.raises(ConfigError, match="bool tensor of the parameter's shape"):
        SaddleFreeNewton([{"params": [w], "masks": [torch.ones(3, dtype=torch.bool)]}])
