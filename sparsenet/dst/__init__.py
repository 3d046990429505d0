"""Dynamic sparse training on the real sparse kernels: SET, RigL, SNFS, grow-then-prune, static.

`DSTHook` rewires the sparse layers of a model inside the one training loop, through the layer
protocol (`sparsenet.masks.layers`), so a `SparseLinear` changes its CSR pattern in O(nnz) and a
masked dense layer (Conv2d, or ``--execution masked``) changes its enforced mask, with the same
choices. See `methods` (the table of methods), `drop`, `growth` and `rates`.
"""
from .drop import DROP_RULES, choose_drop
from .growth import random_inactive, topk_inactive_dense, topk_inactive_product
from .hook import DSTHook, Trajectory, check_trajectory
from .methods import DST_METHODS, DSTMethod, register_method
from .rates import check_rates, drop_fraction, er_density, layer_densities

__all__ = ["DROP_RULES", "DSTHook", "DSTMethod", "DST_METHODS", "Trajectory", "check_rates", "check_trajectory",
           "choose_drop", "drop_fraction", "er_density", "layer_densities", "random_inactive", "register_method",
           "topk_inactive_dense", "topk_inactive_product"]
