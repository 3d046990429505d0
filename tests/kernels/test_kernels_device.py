"""Backend choice by device: numba on CPU, torch.sparse (cuSPARSE) on CUDA, one line otherwise."""
import pytest
import torch

from sparsenet.errors import SparsenetError
from sparsenet.kernels.backends import backend_for


@pytest.mark.parametrize("device, dtype, want", [
    ("cpu", torch.float32, "numba"), ("cpu", torch.float64, "numba"), ("cpu", torch.float16, "torch"),
    ("cuda", torch.float32, "torch"), ("cuda:1", torch.float64, "torch"),
])
def test_auto_picks_the_backend_of_the_device(device, dtype, want):
    assert backend_for("auto", torch.device(device), dtype).name == want


@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_numba_on_cuda_is_refused_in_one_line(device):
    with pytest.raises(SparsenetError) as e:
        backend_for("numba", torch.device(device), torch.float32)
    msg = str(e.value)
    assert "runs float32/float64 on CPU" in msg and "kernel='torch'" in msg and "\n" not in msg


def test_torch_and_reference_backends_take_any_device():
    for name in ("torch", "reference"):
        assert backend_for(name, torch.device("cuda"), torch.float32).name == name
