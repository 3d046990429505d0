"""The per-module mask enforcer: a forward pre-hook holding a module's enforced masks.

Kept apart from `enforce` so that the layer views (`sparsenet.masks.layers`) can read and update a
dense layer's enforced mask without importing the enforcement API.
"""
from __future__ import annotations

import torch
from torch import nn


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

    def replace(self, name: str, mask: torch.Tensor) -> None:
        """Change the enforced mask of `name` in place (same owner token, same hooks)."""
        self.masks[name] = mask

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


def enforcer_of(module: nn.Module, create: bool) -> _Enforcer | None:
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _Enforcer):
            return hook
    if not create:
        return None
    enf = _Enforcer()
    module.register_forward_pre_hook(enf)
    return enf
