"""Keep pruned weights at exactly zero in ANY training loop, without renaming parameters.

`enforce_masks(model, masks)` registers, for every masked parameter ``p`` of a module ``m``:

* a gradient hook on ``p`` that zeroes the gradient of the pruned entries (so SGD momentum and
  Adam moments never build up there), and
* a forward pre-hook on ``m`` that re-zeroes pruned entries that became nonzero (weight decay, or
  optimizer state from before pruning, can move them) before every forward,

and zeroes the pruned weights at once. Unlike ``torch.nn.utils.prune`` the parameter stays the
same ``nn.Parameter`` under its own name (no ``weight_orig`` / ``weight_mask``): the state_dict keeps
the plain names and loads strictly into an unpruned model, and an optimizer built before or after
works unchanged. With ``optimizer=`` the weights are also re-zeroed right after each step, so they
read zero between steps too (e.g. when a checkpoint is written after the last step).

The returned `MaskHandle` is the masks dict itself (``dict[name, bool tensor]``) and keeps
enforcement on until ``handle.remove()`` or the end of a ``with`` block. One parameter has at
most one enforced mask: enforcing a new mask on it (``prune`` again, with the survivors) replaces
the old one, so repeated pruning never stacks hooks. A ``copy.deepcopy`` of the model keeps
enforcing its own copy of the masks (the gradient hook is re-attached at its first forward).

>>> import torch
>>> from torch import nn
>>> lin = nn.Linear(2, 2, bias=False)
>>> handle = enforce_masks(lin, {"weight": torch.tensor([[True, False], [False, True]])})
>>> lin(torch.ones(1, 2)).sum().backward()
>>> lin.weight.grad
tensor([[1., 0.],
        [0., 1.]])
>>> handle.remove()
"""
from __future__ import annotations

import itertools
from typing import Mapping

import torch
from torch import nn

from ..errors import SparsenetError
from .core import sparse_layers, validate_masks

_TOKENS = itertools.count(1)


def _split(name: str) -> tuple[str, str]:
    return (name.rsplit(".", 1)[0], name.rsplit(".", 1)[1]) if "." in name else ("", name)


@torch.no_grad()
def zero_pruned_(p: torch.Tensor, mask: torch.Tensor) -> None:
    """Zero the entries of `p` (a weight or a gradient) where `mask` is False, in place."""
    p.masked_fill_(~mask.to(p.device), 0)


class _Enforcer:
    """The forward pre-hook of one module: its masked parameters, by local name."""

    def __init__(self):
        self.masks: dict[str, torch.Tensor] = {}
        self.tokens: dict[str, int] = {}
        self._grad_hooks: dict[str, tuple[torch.Tensor, object]] = {}

    # deepcopy / pickle: the copy re-attaches gradient hooks to its own parameters on first use.
    def __getstate__(self):
        return {"masks": self.masks, "tokens": self.tokens}

    def __setstate__(self, state):
        self.__init__()
        self.masks, self.tokens = state["masks"], state["tokens"]

    def _mask(self, name: str, device: torch.device) -> torch.Tensor:
        m = self.masks[name]
        if m.device != device:
            m = self.masks[name] = m.to(device)
        return m

    def _hook_grad(self, name: str, p: torch.Tensor) -> None:
        old = self._grad_hooks.get(name)
        if old is not None and old[0] is p:
            return
        if old is not None:
            old[1].remove()
        if isinstance(p, nn.Parameter) and p.requires_grad:
            handle = p.register_hook(lambda g, n=name: g.masked_fill(~self._mask(n, g.device), 0))
            self._grad_hooks[name] = (p, handle)
        else:
            self._grad_hooks.pop(name, None)

    def set(self, module: nn.Module, name: str, mask: torch.Tensor, token: int) -> None:
        self.masks[name], self.tokens[name] = mask, token
        old = self._grad_hooks.pop(name, None)
        if old is not None:
            old[1].remove()
        self._hook_grad(name, module._parameters[name])

    def drop(self, name: str, token: int) -> bool:
        """Stop enforcing `name` if `token` still owns it; True when nothing is left."""
        if self.tokens.get(name) == token:
            del self.masks[name], self.tokens[name]
            old = self._grad_hooks.pop(name, None)
            if old is not None:
                old[1].remove()
        return not self.masks

    def __call__(self, module: nn.Module, args):
        with torch.no_grad():
            for name in self.masks:
                p = module._parameters.get(name)
                if p is None:
                    continue
                self._hook_grad(name, p)
                dead = ~self._mask(name, p.device)
                if p.shape == dead.shape and bool(p.detach()[dead].any()):  # write only when needed:
                    p.masked_fill_(dead, 0)  # an in-place write would invalidate pending graphs
        return None


def _enforcer_of(module: nn.Module, create: bool) -> _Enforcer | None:
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _Enforcer):
            return hook
    if not create:
        return None
    enf = _Enforcer()
    module.register_forward_pre_hook(enf)
    return enf


class MaskHandle(dict):
    """The enforced masks (a ``dict[name, bool tensor]``) plus ``remove()`` / context manager."""

    def __init__(self, model: nn.Module, masks: Mapping[str, torch.Tensor], token: int | None = None,
                 optimizer: torch.optim.Optimizer | None = None):
        super().__init__(masks)
        self._model, self._token = model, token
        self._step_handle = None
        if token is not None and optimizer is not None:
            self._step_handle = optimizer.register_step_post_hook(lambda opt, a, k: self.apply())

    @property
    def active(self) -> bool:
        """True until `remove` (enforcement may still have been replaced by a newer mask)."""
        return self._token is not None

    def apply(self) -> None:
        """Zero the pruned weights now (what the hooks do before each forward)."""
        if self._token is None:
            return
        params = dict(self._model.named_parameters())
        for name, m in self.items():
            enf = _enforcer_of(self._model.get_submodule(_split(name)[0]), create=False)
            if enf is not None and enf.tokens.get(_split(name)[1]) == self._token:
                zero_pruned_(params[name], m)

    def remove(self) -> None:
        """Stop enforcing these masks (pruned weights stay zero until something moves them)."""
        if self._token is None:
            return
        for name in self:
            owner, local = _split(name)
            module = self._model.get_submodule(owner)
            enf = _enforcer_of(module, create=False)
            if enf is not None and enf.drop(local, self._token):  # nothing left: unregister it
                for key, hook in list(module._forward_pre_hooks.items()):  # (a deep copy has no handle)
                    if hook is enf:
                        del module._forward_pre_hooks[key]
        if self._step_handle is not None:
            self._step_handle.remove()
        self._token = None

    def __enter__(self) -> "MaskHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def __reduce__(self):  # pickles / deep-copies as the plain masks dict
        return (dict, (dict(self),))


def enforce_masks(model: nn.Module, masks: Mapping[str, torch.Tensor], *,
                  optimizer: torch.optim.Optimizer | None = None) -> MaskHandle:
    """Zero the pruned weights of `model` and keep them zero in any loop until ``.remove()``.

    See the module docstring. `masks` are validated against `model` (keys are parameter names,
    values bool tensors of the parameter's shape). With `optimizer`, also re-zero after each of
    its steps. Returns a `MaskHandle` (the masks dict; also a context manager).
    """
    validate_masks(model, masks)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise SparsenetError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    token = next(_TOKENS)
    params = dict(model.named_parameters())
    sparse = sparse_layers(model)
    for name, m in masks.items():
        if name in sparse and name not in params:  # a SparseLinear: its pattern is the enforcement
            sparse[name].shrink(m, optimizer=optimizer)
            continue
        owner, local = _split(name)
        module = model.get_submodule(owner)
        zero_pruned_(params[name], m)
        _enforcer_of(module, create=True).set(module, local, m.to(params[name].device), token)
    return MaskHandle(model, masks, token, optimizer)


def enforced_masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """The masks currently enforced on `model`, by parameter name (empty when none)."""
    out = {}
    for mname, module in model.named_modules():
        enf = _enforcer_of(module, create=False)
        if enf is not None:
            for local, m in enf.masks.items():
                out[f"{mname}.{local}" if mname else local] = m
    return out
