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
        # Fan-in init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)): W_ih and b_ih by the inputs, W_hh and b_hh
        # by H. torch.nn.RNN uses 1/sqrt(H) for W_ih too, which makes the input weights vanish as H
        # grows; a wide net pruned to a fixed budget then starts from inputs it can barely see.
        with torch.no_grad():
            for layer, fan_in in ((self.ih, input_size), (self.hh, hidden_size)):
                for p in layer.parameters():
                    p.uniform_(-fan_in ** -0.5, fan_in ** -0.5)

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
        states = self._run(x, h0, keep=True)
        return torch.stack(states, 1), states[-1]

    def last_state(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """h_T only: the same recurrence as `forward` without stacking the T states (a classifier's path)."""
        return self._run(x, h0, keep=False)[-1]

    def _run(self, x: torch.Tensor, h0: torch.Tensor | None, keep: bool) -> list[torch.Tensor]:
        self.check_input(x)
        B, T, _ = x.shape
        h = x.new_zeros(B, self.hidden_size) if h0 is None else h0
        if h.shape != (B, self.hidden_size):
            raise SparsenetError(f"h0 must have shape ({B}, {self.hidden_size}), got {tuple(h.shape)}")
        # Time-major rows (t, b): step t's input projection is one block of B rows, a view whose
        # rows are contiguous for nn.Linear and whose columns are for SparseLinear's feature-major
        # output. split, not indexing: the backward of T index views builds T zero (B, T, H) tensors.
        pre = self.ih(x.transpose(0, 1).reshape(T * B, self.input_size))
        states = []
        for pre_t in pre.split(B, 0):
            h = torch.tanh(pre_t + self.hh(h))
            if keep or not states:
                states.append(h)
            else:
                states[0] = h
        return states

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, tanh"


class RNNClassifier(nn.Module):
    """`ElmanRNN` then a linear readout of the last hidden state: logits ``(B, classes)``.

    With `seq_len`, a flat batch ``(B, seq_len * input_size)`` is read as ``seq_len`` steps of
    ``input_size`` values (row-major: an image flattened row by row gives its rows), so the model
    trains on the flat tensors of `sparsenet.data` like an MLP; ``(B, T, input_size)`` always works.
    """

    def __init__(self, input_size: int, hidden_size: int, num_classes: int, *, bias: bool = True,
                 seq_len: int | None = None):
        super().__init__()
        if seq_len is not None and (not isinstance(seq_len, int) or isinstance(seq_len, bool) or seq_len < 1):
            raise SparsenetError(f"RNNClassifier seq_len={seq_len!r} must be a positive integer or None")
        self.rnn = ElmanRNN(input_size, hidden_size, bias=bias)
        self.readout = nn.Linear(hidden_size, num_classes)
        self.seq_len = seq_len

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.seq_len is not None and torch.is_tensor(x) and x.dim() != 3:
            per = self.seq_len * self.rnn.input_size
            if x.dim() < 2 or x[0].numel() != per:
                raise SparsenetError(f"RNNClassifier(seq_len={self.seq_len}) expects (B, {per}) flat or "
                                     f"(B, {self.seq_len}, {self.rnn.input_size}) inputs, got {tuple(x.shape)}")
            x = x.reshape(x.shape[0], self.seq_len, self.rnn.input_size)
        return self.readout(self.rnn.last_state(x))


__all__ = ["ElmanRNN", "RNNClassifier"]
