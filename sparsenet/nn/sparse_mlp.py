"""An MLP built directly sparse: every layer a random Erdős–Rényi `SparseLinear`, no dense weight
ever allocated (the MLP skeleton is built on the meta device, then its layers are replaced).

Inside it activations stay feature-major from the first layer to the last (see
`sparsenet.kernels.autograd`), so a training step transposes only the data batch.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import SparsenetError
from ..models import MLP
from .sparse_linear import SparseLinear


def sparse_mlp(sizes: list[int], density: float | list[float], activation: str = "relu", *,
               dense_last: bool = False, generator: torch.Generator | None = None,
               kernel: str = "auto") -> MLP:
    """``MLP(sizes, activation)`` whose layers are ``SparseLinear.random`` at `density` (one value,
    or one per layer). `dense_last` keeps the output layer an ordinary ``nn.Linear``.

    Its state_dict has the dense MLP's keys and shapes, so it loads into ``MLP(sizes, activation)``.
    """
    with torch.device("meta"):
        model = MLP(sizes, activation)
    n = len(model.layers)
    densities = list(density) if isinstance(density, (list, tuple)) else [density] * n
    if len(densities) != n:
        raise SparsenetError(f"got {len(densities)} densities for {n} layers of {model.spec}; "
                             f"give one value or one per layer")
    for i, (n_in, n_out) in enumerate(zip(model.sizes[:-1], model.sizes[1:])):
        if dense_last and i == n - 1:
            model.layers[i] = nn.Linear(n_in, n_out)
        else:
            model.layers[i] = SparseLinear.random(n_in, n_out, densities[i], generator=generator, kernel=kernel)
    return model
