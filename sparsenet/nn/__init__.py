"""Layers: SparseLinear (CSR, O(nnz) forward/backward/update) and model conversions."""
from .convert import densify, export_dense, sparsify
from .sparse_linear import SparseLinear
from . import csr_view  # noqa: F401  (registers SparseLinear's layer view)
from .sparse_mlp import sparse_mlp
from .hashed_linear import HashedLinear
from .low_rank import LowRankLinear
from .kwinners import KWinners, KWinners2d
from .rnn import ElmanRNN, RNNClassifier

__all__ = ["SparseLinear", "HashedLinear", "sparsify", "densify", "export_dense", "sparse_mlp", "KWinners", "KWinners2d", "LowRankLinear", "ElmanRNN",
           "RNNClassifier"]
