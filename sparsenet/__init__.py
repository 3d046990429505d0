"""sparsenet: sparse and compressed neural networks on PyTorch.

Masks are `dict[param_name, bool tensor]`; `SparseLinear` computes and trains on live weights
only (O(nnz)); one training loop runs dense burn-in, pruning and sparse training, and writes a
run directory that `sparsenet report` turns into tables and figures.
"""
from .data import Dataset, load_dataset
from .errors import ConfigError, DataError, DivergenceError, SparsenetError
from .experiments.train import run_train
from .experiments.train.config import TrainConfig
from .masks import apply_masks, budget_masks, halving_masks, load_masks, remove_unconnected, save_masks
from .models import MLP, build_model
from .nn import SparseLinear, densify, sparse_mlp, sparsify
from .masks import MaskHandle, enforce_masks
from .nn.checkpoint import load, save

__version__ = "0.1.0"

__all__ = ["Dataset", "load_dataset", "SparsenetError", "ConfigError", "DataError", "DivergenceError",
           "run_train", "TrainConfig", "apply_masks", "budget_masks", "halving_masks", "load_masks",
           "save_masks", "remove_unconnected", "MLP", "build_model", "SparseLinear", "sparsify", "densify",
           "sparse_mlp", "save", "load", "enforce_masks", "MaskHandle"]
