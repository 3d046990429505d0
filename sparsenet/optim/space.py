"""`ParamSpace`: the flat vector of the live entries of a few parameters, and the closure contract.

Every curvature tool works on one flat vector ``w`` of length ``n``: the entries of each parameter
in order, or only those where the parameter's bool mask is True (the live weights of a pruned
net). Dead entries are never read into ``w`` and never written: a step over a `ParamSpace` leaves
them exactly as they were.

Closures follow `torch.optim.LBFGS`: ``closure()`` recomputes the loss from the current parameter
values and returns it (a scalar tensor with a graph). Unlike LBFGS it must not call ``backward()``
itself: the optimizers take first and second derivatives of the returned graph.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from ..errors import ConfigError
from .errors import ClosureError, MixedDeviceError, NonFiniteError

Closure = Callable[[], torch.Tensor]


class ParamSpace:
    """Parameters (with optional bool masks) seen as one flat vector of their live entries.

    >>> a = torch.nn.Parameter(torch.tensor([[1., 2.], [3., 4.]])); b = torch.nn.Parameter(torch.tensor([5.]))
    >>> s = ParamSpace([a, b], [torch.tensor([[True, False], [False, True]]), None])
    >>> s.numel, s.values().tolist()
    (3, [1.0, 4.0, 5.0])
    >>> s.add_(torch.tensor([10., 20., 30.])); a.tolist(), b.tolist()
    ([[11.0, 2.0], [3.0, 24.0]], [35.0])
    """

    def __init__(self, params: Sequence[torch.Tensor], masks: Sequence[torch.Tensor | None] | None = None):
        params = list(params)
        if not params:
            raise ConfigError("no parameters given; pass at least one tensor with requires_grad=True")
        masks = [None] * len(params) if masks is None else list(masks)
        if len(masks) != len(params):
            raise ConfigError(f"{len(masks)} masks for {len(params)} parameters; give one mask (or None) per parameter")
        check_params(params)
        for i, (p, m) in enumerate(zip(params, masks)):
            if m is None:
                continue
            if not isinstance(m, torch.Tensor) or m.dtype != torch.bool or m.shape != p.shape:
                got = f"{m.dtype} {tuple(m.shape)}" if isinstance(m, torch.Tensor) else type(m).__name__
                raise ConfigError(f"mask {i} is {got}; it must be a bool tensor of the parameter's shape {tuple(p.shape)}")
            if m.device != p.device:
                raise MixedDeviceError(f"mask {i} is on {m.device} but its parameter on {p.device}; move the mask with .to({str(p.device)!r})")
        self.params = params
        # Flat indices of the live entries; None = every entry (no gather needed).
        self.index = [None if m is None else m.reshape(-1).nonzero().squeeze(1) for m in masks]
        self.sizes = [p.numel() if i is None else i.numel() for p, i in zip(params, self.index)]
        self.numel = sum(self.sizes)
        self.dtype = params[0].dtype
        self.device = params[0].device

    def flat(self, tensors: Sequence[torch.Tensor | None]) -> torch.Tensor:
        """Concatenate the live entries of tensors shaped like the parameters (None = zeros)."""
        parts = []
        for p, t, i in zip(self.params, tensors, self.index):
            t = torch.zeros_like(p) if t is None else t
            t = t.reshape(-1)
            parts.append(t if i is None else t[i])
        return torch.cat(parts)

    def flat_batched(self, tensors: Sequence[torch.Tensor | None], rows: int) -> torch.Tensor:
        """Like `flat` for tensors with a leading batch dimension: (rows, *p.shape) -> (rows, n)."""
        parts = []
        for p, t, i in zip(self.params, tensors, self.index):
            t = torch.zeros((rows, p.numel()), dtype=p.dtype, device=p.device) if t is None else t.reshape(rows, -1)
            parts.append(t if i is None else t[:, i])
        return torch.cat(parts, dim=1)

    def unflat(self, vec: torch.Tensor) -> list[torch.Tensor]:
        """Tensors shaped like the parameters: `vec` at the live entries, zeros elsewhere."""
        return [t.reshape(p.shape) for p, t in zip(self.params, self.unflat_batched(vec.unsqueeze(0)))]

    def unflat_batched(self, mat: torch.Tensor) -> list[torch.Tensor]:
        """(rows, n) -> per parameter (rows, *p.shape), zeros at dead entries."""
        rows, out, start = mat.shape[0], [], 0
        mat = mat.to(self.dtype)
        for p, i, k in zip(self.params, self.index, self.sizes):
            chunk = mat[:, start:start + k]
            start += k
            if i is None:
                out.append(chunk.reshape(rows, *p.shape))
            else:
                full = torch.zeros((rows, p.numel()), dtype=p.dtype, device=p.device)
                full[:, i] = chunk
                out.append(full.reshape(rows, *p.shape))
        return out

    def values(self) -> torch.Tensor:
        return self.flat([p.detach() for p in self.params]).clone()

    @torch.no_grad()
    def add_(self, vec: torch.Tensor, alpha: float = 1.0) -> None:
        """w += alpha * vec on the live entries only."""
        vec = vec.to(self.dtype)
        start = 0
        for p, i, k in zip(self.params, self.index, self.sizes):
            chunk = vec[start:start + k] * alpha
            start += k
            flat = p.view(-1)
            if i is None:
                flat.add_(chunk)
            else:
                flat.index_add_(0, i, chunk)

    def snapshot(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def restore(self, saved: Sequence[torch.Tensor]) -> None:
        for p, s in zip(self.params, saved):
            p.copy_(s)


def check_params(params: Sequence[torch.Tensor]) -> None:
    """Floating-point tensors on one device, or a one-line error naming the culprit."""
    devices = []
    for i, p in enumerate(params):
        if not isinstance(p, torch.Tensor):
            raise ConfigError(f"parameter {i} is a {type(p).__name__}, not a tensor")
        if not p.is_floating_point():
            raise ConfigError(f"parameter {i} has dtype {p.dtype}; second-order optimizers need floating-point parameters")
        if not p.requires_grad:
            raise ConfigError(f"parameter {i} does not require grad; pass only trainable tensors (requires_grad=True)")
        if p.dtype != params[0].dtype:
            raise ConfigError(f"parameter {i} is {p.dtype} but parameter 0 is {params[0].dtype}; "
                              "convert the model to one dtype (model.double() or model.float())")
        if p.device not in devices:
            devices.append(p.device)
    if len(devices) > 1:
        raise MixedDeviceError(f"parameters are on mixed devices {', '.join(map(str, devices))}; "
                               "move the model to one device (model.to(device)) before building the optimizer")


def call_closure(closure: Closure | None) -> torch.Tensor:
    """Call `closure` with gradients enabled; check it returned a finite scalar loss tensor."""
    if closure is None or not callable(closure):
        raise ClosureError("step() needs a closure that recomputes and returns the loss, "
                           "e.g. opt.step(lambda: loss_fn(model(x), y))")
    with torch.enable_grad():
        loss = closure()
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        got = f"a tensor of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else repr(type(loss).__name__)
        raise ClosureError(f"the closure returned {got}; it must return the scalar loss tensor (return loss)")
    if not loss.requires_grad:
        raise ClosureError("the closure returned a loss without a graph; compute it from the parameters "
                           "with gradients enabled and do not .detach() or .item() it")
    check_finite(loss, "loss")
    return loss.reshape(())


def check_finite(t: torch.Tensor, what: str) -> None:
    if not bool(torch.isfinite(t).all()):
        bad = "NaN" if bool(torch.isnan(t).any()) else "inf"
        raise NonFiniteError(f"the {what} contains {bad}; lower the learning rate or raise the damping "
                             "(parameters left unchanged)")


def grad_with_graph(loss: torch.Tensor, params: Sequence[torch.Tensor], create_graph: bool = True
                    ) -> tuple[torch.Tensor, ...]:
    """dL/dp (None for unused p), or a ClosureError when the closure already freed the graph."""
    try:
        return torch.autograd.grad(loss, params, create_graph=create_graph, allow_unused=True)
    except RuntimeError as e:
        if "second time" in str(e) or "freed" in str(e):
            raise ClosureError("the closure called backward() and freed the graph; return the loss "
                               "without calling backward()") from None
        raise


__all__ = ["ParamSpace", "Closure", "check_params", "call_closure", "check_finite", "grad_with_graph"]
