"""Layers: SparseLinear (CSR, O(nnz) forward/backward/update) and model conversions."""
from .sparse_linear import SparseLinear, densify, sparsify

__all__ = ["SparseLinear", "sparsify", "densify"]
