"""Elman recurrent nets whose input and recurrent matrices can be sparse (seed 000's next step).

    h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh),   h_0 = 0 (or given),   t = 1 … T

`ElmanRNN` holds W_ih and W_hh as two linear submodules, ``ih`` and ``hh``, so every tool of the
library sees them as ordinary prunable layers (``ih.weight``, ``hh.weight``: masks, criteria,
`prune`, the layer protocol) and `sparsify` turns them into `SparseLinear`. Training is
backpropagation through time by autograd: the input projection of all T steps is one (B·T)-row
product, the recurrence one product per step, each O(nnz) per step forward and backward when the
layers are SparseLinear. `RNNClassifier` reads the class from the last hidden state. Inputs are
batch-first ``(B, T, input_size)``; the dense reference is ``torch.nn.RNN(nonlinearity="tanh",
batch_first=True)`` with the same weights (`ElmanRNN.from_torch`, tests/nn/test_rnn.py).
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import SparsenetError


class ElmanRNN(nn.Module):
    """One tanh Elman layer; see the module docstring. ``forward(x, h0=None) -> (outputs (B, T, H), h_T)``."""

    def __init__(self, input_size: int, hidden_size: int, *, bias: bool = True):
        super().__init__()
        for what, n in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise SparsenetError(f"ElmanRNN {what}={n!r} must be a positive integer")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.ih = nn.Linear(input_size, hidden_size, bias=bias)
        self.hh = nn.Linear(hidden_size, hidden_size, bias=bias)
        bound = hidden_size ** -0.5  # torch.nn.RNN's init: U(-1/sqrt(H), 1/sqrt(H)) for every tensor
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    @classmethod
    def from_torch(cls, rnn: nn.RNN) -> "ElmanRNN":
        """The same weights as a one-layer, unidirectional, batch-first tanh `torch.nn.RNN`."""
        if rnn.num_layers != 1 or rnn.bidirectional or rnn.nonlinearity != "tanh" or not rnn.batch_first:
            raise SparsenetError("ElmanRNN.from_torch takes a 1-layer, unidirectional, batch_first tanh nn.RNN")
        out = cls(rnn.input_size, rnn.hidden_size, bias=rnn.bias)
        with torch.no_grad():
            out.ih.weight.copy_(rnn.weight_ih_l0)
            out.hh.weight.copy_(rnn.weight_hh_l0)
            if rnn.bias:
                out.ih.bias.copy_(rnn.bias_ih_l0)
                out.hh.bias.copy_(rnn.bias_hh_l0)
        return out

    def check_input(self, x: torch.Tensor) -> None:
        if not torch.is_tensor(x) or x.dim() != 3 or x.shape[-1] != self.input_size:
            got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise SparsenetError(f"ElmanRNN expects a sequence batch (B, T, {self.input_size}) (batch first), "
                                 f"got {got}; reshape it, e.g. images as rows: (B, 28, 28)")
        if x.shape[1] < 1:
            raise SparsenetError("ElmanRNN got a sequence of length 0; give at least one time step")

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        self.check_input(x)
        B, T, _ = x.shape
        pre = self.ih(x.reshape(B * T, self.input_size)).reshape(B, T, self.hidden_size)
        h = x.new_zeros(B, self.hidden_size) if h0 is None else h0
        if h.shape != (B, self.hidden_size):
            raise SparsenetError(f"h0 must have shape ({B}, {self.hidden_size}), got {tuple(h.shape)}")
        outs = []
        for t in range(T):
            h = torch.tanh(pre[:, t] + self.hh(h))
            outs.append(h)
        return torch.stack(outs, 1), h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, tanh"


class RNNClassifier(nn.Module):
    """`ElmanRNN` then a linear readout of the last hidden state: logits ``(B, classes)``."""

    def __init__(self, input_size: int, hidden_size: int, num_classes: int, *, bias: bool = True):
        super().__init__()
        self.rnn = ElmanRNN(input_size, hidden_size, bias=bias)
        self.readout = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.rnn(x)[1])


__all__ = ["ElmanRNN", "RNNClassifier"]
