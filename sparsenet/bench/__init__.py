"""`sparsenet bench`: sparse training kernels against dense PyTorch and other sparse libraries,
measured interleaved in one process (see `timing`), printed as a table and written as JSON."""
from .layer import LAYER_CONTENDERS, layer_contenders
from .mlp import MLP_CONTENDERS, mlp_contenders
from .timing import time_interleaved

__all__ = ["LAYER_CONTENDERS", "MLP_CONTENDERS", "layer_contenders", "mlp_contenders", "time_interleaved"]
