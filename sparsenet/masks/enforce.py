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
from .enforcer import _Enforcer, enforcer_of  # noqa: F401  (_Enforcer: re-exported for pickles)

_TOKENS = itertools.count(1)


def _split(name: str) -> tuple[str, str]:
    return (name.rsplit(".", 1)[0], name.rsplit(".", 1)[1]) if "." in name else ("", name)


@torch.no_grad()
def zero_pruned_(p: torch.Tensor, mask: torch.Tensor) -> None:
    """Zero the entries of `p` (a weight or a gradient) where `mask` is False, in place."""
    p.masked_fill_(~mask.to(p.device), 0)


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
            enf = enforcer_of(self._model.get_submodule(_split(name)[0]), create=False)
            local = _split(name)[1]
            if enf is not None and enf.tokens.get(local) == self._token:  # the current mask: a
                zero_pruned_(params[name], enf.masks[local])  # pattern update may have changed it

    def remove(self) -> None:
        """Stop enforcing these masks (pruned weights stay zero until something moves them)."""
        if self._token is None:
            return
        for name in self:
            owner, local = _split(name)
            module = self._model.get_submodule(owner)
            enf = enforcer_of(module, create=False)
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
        enforcer_of(module, create=True).set(module, local, m.to(params[name].device), token)
    return MaskHandle(model, masks, token, optimizer)


def enforced_masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """The masks currently enforced on `model`, by parameter name (empty when none)."""
    out = {}
    for mname, module in model.named_modules():
        enf = enforcer_of(module, create=False)
        if enf is not None:
            for local, m in enf.masks.items():
                out[f"{mname}.{local}" if mname else local] = m
    return out
