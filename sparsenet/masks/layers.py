"""The sparse-layer protocol: one view of every prunable layer, dense or CSR.

Masks, criteria, allocation, `prune`, the lottery code and the training hooks never ask what kind
of layer they hold; they ask the layer's view (`layer_view(module)`), which gives

* ``shape``: the dense weight's shape, which is also the shape of the layer's mask;
* ``dense_weight()``: the weight as a dense tensor (zeros where nothing is live), detached;
* ``mask()``: the live connections, a dense bool tensor of ``shape``;
* ``nnz()``: how many connections are live (what the layer stores and computes with);
* ``shrink_(keep, optimizer=)``: drop the connections `keep` marks False (a sub-pattern);
* ``grow_(new, values=, optimizer=)``: make the connections `new` marks True live, starting at
  `values` (default 0); connections already live keep their value;
* ``set_mask_(mask, optimizer=)``: make the live set exactly `mask` (grow, then shrink);
* ``load_dense_(weight)``: take a dense weight's values at the current pattern (rewinding);
* ``dense_grad()``: the gradient of the live connections as a dense tensor (zeros elsewhere);
* O(nnz) access for rewiring methods: ``live_keys()`` (flat indices, ascending), ``live_values()``,
  ``live_state(optimizer, name)``, ``drop_(drop)`` and ``grow_keys_(keys, values)``; the dense
  defaults are overridden by views that store only their live connections (SparseLinear).

Pattern updates keep the optimizer consistent when given ``optimizer=``: survivors keep their
per-entry state (SGD momentum, Adam moments), new connections start with zero state.

Registered kinds (`LAYERS`): ``linear`` and ``conv`` (``nn.Linear`` and every ``nn.Conv*``: the
parameter ``weight`` is the dense weight, the mask is the one enforced on it by
`sparsenet.masks.enforce_masks`, or all-True), and ``sparse_linear`` (`sparsenet.nn.SparseLinear`,
which registers itself: its live values are its CSR pattern; nothing dense is stored). A new layer
kind registers one `LayerView` subclass with `register_layer` and then works with every criterion,
`prune`, the lottery code and the conformance suite (tests/conformance/test_layer_protocol.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..errors import SparsenetError
from ..registry import Registry
from .enforcer import enforcer_of


class LayerView:
    """The protocol; subclasses implement it for one module type (see the module docstring)."""

    param: str = "weight"  # local name of the tensor that trains
    native: bool = True  # True: ``<layer>.<param>`` is itself the dense weight (no translation)

    def __init__(self, module: nn.Module):
        self.module = module

    @property
    def parameter(self) -> nn.Parameter:
        return getattr(self.module, self.param)

    @property
    def shape(self) -> torch.Size:
        raise NotImplementedError

    def dense_weight(self) -> torch.Tensor:
        raise NotImplementedError

    def mask(self) -> torch.Tensor:
        raise NotImplementedError

    def nnz(self) -> int:
        return int(self.mask().sum())

    def shrink_(self, keep: torch.Tensor, *, optimizer: torch.optim.Optimizer | None = None) -> None:
        raise NotImplementedError

    def grow_(self, new: torch.Tensor, values: torch.Tensor | None = None, *,
              optimizer: torch.optim.Optimizer | None = None) -> None:
        raise NotImplementedError

    def load_dense_(self, weight: torch.Tensor) -> None:
        raise NotImplementedError

    def set_mask_(self, mask: torch.Tensor, *, optimizer: torch.optim.Optimizer | None = None) -> None:
        """Make the live set exactly `mask`: grow what is missing (at 0), drop the rest."""
        self.grow_(mask, optimizer=optimizer)
        self.shrink_(mask, optimizer=optimizer)

    def dense_grad(self) -> torch.Tensor | None:
        raise NotImplementedError

    # ---- O(nnz) access, for methods that rewire large layers (dynamic sparse training) ----------
    # A *key* is a connection's flat index in the weight seen as (out, rest): row * rest + col.
    def live_keys(self) -> torch.Tensor:
        """The live connections' keys, ascending (int64, (nnz,)); the order of `live_values`."""
        return self.mask().reshape(-1).nonzero().squeeze(1)

    def live_values(self) -> torch.Tensor:
        """The live weights, in key order (detached)."""
        return self.dense_weight().reshape(-1)[self.live_keys()]

    def live_state(self, optimizer, name: str) -> torch.Tensor | None:
        """The live entries of `optimizer`'s per-entry state `name` (e.g. ``momentum_buffer``), in
        key order, or None when it has none yet."""
        t = optimizer.state.get(self.parameter, {}).get(name) if optimizer is not None else None
        return None if t is None else t.reshape(-1)[self.live_keys()]

    def drop_(self, drop: torch.Tensor, *, optimizer=None) -> None:
        """Drop the live connections where `drop` (bool, (nnz,), key order) is True."""
        keep = torch.ones(self.shape.numel(), dtype=torch.bool, device=drop.device)
        keep[self.live_keys()[drop]] = False
        self.shrink_(keep.reshape(self.shape), optimizer=optimizer)

    def grow_keys_(self, keys: torch.Tensor, values: torch.Tensor | None = None, *, optimizer=None) -> None:
        """Make the connections at `keys` live, starting at `values` (default 0)."""
        new = torch.zeros(self.shape.numel(), dtype=torch.bool, device=keys.device)
        new[keys] = True
        full = None
        if values is not None:
            full = torch.zeros(self.shape.numel(), dtype=values.dtype, device=keys.device)
            full[keys] = values
            full = full.reshape(self.shape)
        self.grow_(new.reshape(self.shape), full, optimizer=optimizer)

    def rewire_(self, drop: torch.Tensor, keys: torch.Tensor, values: torch.Tensor | None = None, *,
                optimizer=None) -> None:
        """`drop_` then `grow_keys_` (views that can do both in one pattern rebuild override this)."""
        self.drop_(drop, optimizer=optimizer)
        self.grow_keys_(keys, values, optimizer=optimizer)

    # helpers shared by the implementations
    def _check(self, what: str, t: torch.Tensor, bool_: bool = True) -> torch.Tensor:
        if not torch.is_tensor(t) or (bool_ and t.dtype != torch.bool):
            got = t.dtype if torch.is_tensor(t) else type(t).__name__
            raise SparsenetError(f"{what} needs a bool tensor of shape {tuple(self.shape)}, got {got}")
        if t.shape != self.shape:
            raise SparsenetError(f"{what} needs shape {tuple(self.shape)}, got {tuple(t.shape)}")
        return t


@dataclass(frozen=True)
class LayerKind:
    """A registered layer kind: the module type, its view, and a small example (a module with
    random weights and an input batch for it) that the conformance suite checks the view on."""

    name: str
    module_type: type
    view: type[LayerView]
    example: Callable[[torch.Generator], tuple[nn.Module, torch.Tensor]]


LAYERS: Registry[LayerKind] = Registry("layer kind")


def register_layer(name: str, module_type: type, view: type[LayerView],
                   example: Callable[[torch.Generator], tuple[nn.Module, torch.Tensor]]) -> None:
    """Register `view` as the protocol of `module_type` (subclasses included)."""
    LAYERS.register(name, LayerKind(name, module_type, view, example))


def layer_view(module: nn.Module) -> LayerView | None:
    """The protocol view of `module`, or None when it is no prunable layer (the most specific
    registered type wins)."""
    best = None
    for name in LAYERS.names():
        kind = LAYERS.get(name)
        if isinstance(module, kind.module_type) and (best is None or issubclass(kind.module_type, best.module_type)):
            best = kind
    return None if best is None else best.view(module)


def layer_views(model: nn.Module) -> dict[str, LayerView]:
    """``{"<layer>.weight": view}`` for every prunable layer of `model`, in model order (the key is
    the layer's mask name; for a dense layer also its parameter's name)."""
    out = {}
    for n, m in model.named_modules():
        v = layer_view(m)
        if v is not None:
            out[f"{n}.weight" if n else "weight"] = v
    return out


# ----------------------------------------------------------------------- dense layers


def _zero_state_(optimizer, p: torch.Tensor, where: torch.Tensor) -> None:
    """Zero `optimizer`'s per-entry state of `p` (tensors of p's shape) where `where` is True."""
    if optimizer is None:
        return
    for t in optimizer.state.get(p, {}).values():
        if torch.is_tensor(t) and t.shape == p.shape:
            t.masked_fill_(where.to(t.device), 0)


class DenseWeight(LayerView):
    """``nn.Linear`` / ``nn.Conv*``: the weight parameter is dense; the mask is the one enforced on it.

    A dense layer holds a pattern only under `enforce_masks` (or `prune`, which enforces): then
    shrinking and growing update the enforced mask. Without one every connection is live, `grow_`
    has nothing to add, and `shrink_` zeroes the dropped weights for a caller that holds the mask
    itself (`MaskHook`, `ScheduledPruning`)."""

    @property
    def shape(self) -> torch.Size:
        return self.module.weight.shape

    def _enforcer(self):
        enf = enforcer_of(self.module, create=False)
        return enf if enf is not None and "weight" in enf.masks else None

    def dense_weight(self) -> torch.Tensor:
        w = self.module.weight.detach()
        enf = self._enforcer()
        return w if enf is None else w.masked_fill(~enf.masks["weight"].to(w.device), 0)

    def mask(self) -> torch.Tensor:
        enf = self._enforcer()
        w = self.module.weight
        if enf is None:
            return torch.ones(w.shape, dtype=torch.bool, device=w.device)
        return enf.masks["weight"].to(w.device).clone()

    @torch.no_grad()
    def shrink_(self, keep, *, optimizer=None) -> None:
        keep = self._check("shrink", keep).to(self.module.weight.device)
        w = self.module.weight
        w.masked_fill_(~keep, 0)
        if w.grad is not None:
            w.grad.masked_fill_(~keep, 0)
        _zero_state_(optimizer, w, ~keep)
        enf = self._enforcer()
        if enf is not None:
            enf.replace("weight", enf.masks["weight"].to(w.device) & keep)

    @torch.no_grad()
    def grow_(self, new, values=None, *, optimizer=None) -> None:
        new = self._check("grow", new).to(self.module.weight.device)
        enf = self._enforcer()
        if enf is None:  # every connection of an unmasked dense layer is live already
            return
        w = self.module.weight
        born = new & ~enf.masks["weight"].to(w.device)
        fill = torch.zeros_like(w) if values is None else self._check("grow values", values, bool_=False).to(w)
        w[born] = fill[born]
        _zero_state_(optimizer, w, born)
        enf.replace("weight", enf.masks["weight"].to(w.device) | born)

    @torch.no_grad()
    def load_dense_(self, weight) -> None:
        w = self.module.weight
        w.copy_(self._check("load", weight, bool_=False).to(w).masked_fill(~self.mask(), 0))

    def dense_grad(self):
        g = self.module.weight.grad
        return None if g is None else g.detach()


def _linear_example(g: torch.Generator):
    lin = nn.Linear(7, 5)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(5, 7, generator=g))
    return lin, torch.randn(4, 7, generator=g)


def _conv_example(g: torch.Generator):
    conv = nn.Conv2d(3, 4, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(4, 3, 3, 3, generator=g))
    return conv, torch.randn(2, 3, 5, 5, generator=g)


register_layer("linear", nn.Linear, DenseWeight, _linear_example)
register_layer("conv", nn.modules.conv._ConvNd, DenseWeight, _conv_example)


__all__ = ["DenseWeight", "LAYERS", "LayerKind", "LayerView", "layer_view", "layer_views", "register_layer"]
