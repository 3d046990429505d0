"""Second-order optimisation: curvature tools and Newton-type optimizers (see docs/second-order.md).

Curvature: `hvp` / `func_hvp` (exact), `fd_hvp` (central differences), `gauss_newton_vp`,
`exact_hessian` / `hessian_blocks` (full or per-block, restricted to masks), `fd_hessian`
(brute force), `lanczos` / `lanczos_extremes`.

Optimizers (closure-based like `torch.optim.LBFGS`; the closure returns the loss and does not call
backward): `SaddleFreeNewton` (exact |H|), `KrylovSaddleFreeNewton`, `HessianFreeNewton`; groups
from `live_param_groups` restrict them to the live weights of a pruned net. The seed's
perceptron method is `perceptron_fd_newton`.

>>> import torch
>>> w = torch.nn.Parameter(torch.tensor([3.0, -2.0]))
>>> opt = SaddleFreeNewton([w], damping=1e-9)
>>> _ = opt.step(lambda: (w[0] - 1) ** 2 + 5 * (w[1] + 1) ** 2)   # a convex quadratic: one step
>>> [round(x, 6) for x in w.tolist()]
[1.0, -1.0]
"""
from .errors import ClosureError, MixedDeviceError, NonFiniteError, TooManyParametersError
from .hessian import exact_hessian, fd_hessian, hessian_blocks, hessian_bytes
from .hessian_free import HessianFreeNewton, conjugate_gradient
from .hvp import exact_hvp_operator, fd_hvp, fd_hvp_operator, func_hvp, gauss_newton_vp, hvp
from .krylov import KrylovSaddleFreeNewton
from .lanczos import lanczos, lanczos_extremes
from .perceptron_newton import perceptron_fd_newton, perceptron_forward
from .sfn import SaddleFreeNewton, newton_direction, sfn_direction
from .space import ParamSpace
from .subspace import layer_groups, live_count, live_param_groups

__all__ = [
    "ClosureError", "MixedDeviceError", "NonFiniteError", "TooManyParametersError",
    "exact_hessian", "fd_hessian", "hessian_blocks", "hessian_bytes",
    "HessianFreeNewton", "conjugate_gradient",
    "exact_hvp_operator", "fd_hvp", "fd_hvp_operator", "func_hvp", "gauss_newton_vp", "hvp",
    "KrylovSaddleFreeNewton", "lanczos", "lanczos_extremes",
    "perceptron_fd_newton", "perceptron_forward",
    "SaddleFreeNewton", "newton_direction", "sfn_direction",
    "ParamSpace", "layer_groups", "live_count", "live_param_groups",
]
