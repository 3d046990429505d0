"""A plain multi-layer perceptron whose layers can be swapped for sparse ones."""
from __future__ import annotations

import warnings

import torch
from torch import nn

from ..errors import ConfigError, SparsenetError
from .activations import activation_fn, check_activation
from .spec import format_layer_spec


class MLP(nn.Module):
    """``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with `activation` after every layer but the last.

    Layers live in ``self.layers`` (an ``nn.ModuleList`` of ``nn.Linear``), so parameter names
    are ``layers.0.weight``, ``layers.0.bias``, ... `forward` only iterates over ``self.layers``:
    any module with the same call signature (e.g. a ``SparseLinear`` with matching
    ``in_features`` / ``out_features``) can replace an entry.

    Initialisation is PyTorch's default for ``nn.Linear``: weight and bias are both drawn from
    ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` (``kaiming_uniform_(a=sqrt(5))`` for the
    weight), layer by layer in order, from torch's global generator, so a model built after
    ``torch.manual_seed(s)`` is the same every time.

    Hidden widths may be 0 (``nn.Linear(k, 0)`` / ``nn.Linear(0, k)`` work): a network whose
    hidden layer has no units outputs the constant last bias. `remove_unconnected` can produce
    such a network; the input and output sizes must be at least 1.

    >>> _ = torch.manual_seed(0)
    >>> net = MLP([4, 3, 2], activation="relu")
    >>> [name for name, _ in net.named_parameters()]
    ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']
    >>> net(torch.zeros(5, 2, 2)).shape   # inputs are flattened to (B, 4)
    torch.Size([5, 2])
    """

    def __init__(self, sizes: list[int], activation: str = "tanh", leaky_slope: float = 0.01):
        super().__init__()
        sizes = _check_sizes(sizes)
        check_activation(activation, leaky_slope)
        self.sizes = sizes
        self.activation = activation
        self.leaky_slope = float(leaky_slope)
        self._act = activation_fn(activation, self.leaky_slope)
        with warnings.catch_warnings():
            # nn.Linear warns that initialising a zero-element weight (width-0 layer) is a no-op.
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors is a no-op")
            self.layers = nn.ModuleList(
                nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])
            )

    @property
    def spec(self) -> str:
        """The sizes as a spec string, e.g. ``"784-300-100-10"``."""
        return format_layer_spec(self.sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2:
            raise SparsenetError(
                f"MLP expects a batch of shape (B, ...) with {self.sizes[0]} features per example, "
                f"got shape {tuple(x.shape)}; add a batch dimension with x.unsqueeze(0)"
            )
        x = x.flatten(1)  # (B, ...) -> (B, features)
        last = len(self.layers) - 1
        relu = self.activation == "relu"
        for i, layer in enumerate(self.layers):
            if i < last and relu and hasattr(layer, "linear_relu"):
                x = layer.linear_relu(x)  # a SparseLinear: one pass at inference (see its docstring)
                continue
            x = layer(x)
            if i < last:
                x = self._act(x)
        return x

    def extra_repr(self) -> str:
        slope = f", leaky_slope={self.leaky_slope}" if self.activation == "leaky_relu" else ""
        return f"spec={self.spec!r}, activation={self.activation!r}{slope}"


def _check_sizes(sizes) -> list[int]:
    try:
        sizes = list(sizes)
    except TypeError:
        raise ConfigError(f"MLP sizes must be a list of integers, got {sizes!r}") from None
    if len(sizes) < 2:
        raise ConfigError(
            f"MLP sizes {sizes!r} need at least 2 entries (input and output), e.g. [784, 300, 10]"
        )
    for i, s in enumerate(sizes):
        if isinstance(s, bool) or not isinstance(s, int):
            raise ConfigError(f"MLP sizes {sizes!r}: entry {i} ({s!r}) is not an integer")
        edge = i in (0, len(sizes) - 1)
        if s < (1 if edge else 0):
            what = "input/output sizes must be >= 1" if edge else "hidden widths must be >= 0"
            raise ConfigError(f"MLP sizes {sizes!r}: entry {i} ({s}) is invalid; {what}")
    return [int(s) for s in sizes]
