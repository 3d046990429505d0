"""Layers: SparseLinear (CSR, O(nnz) forward/backward/update) and model conversions."""
from .convert import densify, export_dense, sparsify
from .sparse_linear import SparseLinear
from . import csr_view  # noqa: F401  (registers SparseLinear's layer view)
from .sparse_mlp import sparse_mlp
from .kwinners import KWinners, KWinners2d

__all__ = ["SparseLinear", "sparsify", "densify", "export_dense", "sparse_mlp", "KWinners", "KWinners2d"]
