"""Physical removal of dead units in any ``nn.Sequential`` stack of Linear / Conv layers.

The stack is read as weight layers (``nn.Linear``, ``nn.Conv1d/2d/3d`` with ``groups=1``) with
per-unit modules between consecutive ones: element-wise activations, ``nn.Dropout``,
``nn.Flatten`` (a conv read by a Linear: ``S = in_features / channels`` columns per channel),
max / average pooling. Modules before the first and after the last weight layer are kept as they
are. For unit ``u`` (an output row / channel) of a weight layer followed by another, applied until
nothing changes (the rules of `sparsenet.masks.remove_unconnected`, generalised):

* no live outgoing weight: it affects nothing — delete it (its row, bias entry and the next
  layer's columns / input channel);
* no live incoming weight: it outputs the constant ``c = f(b_u)`` (``f`` = the element-wise modules
  between the layers; pooling keeps a constant). ``c == 0``: delete it. Otherwise fold it into the
  next bias — ``b_next += Σ W_next[:, cols(u)] · c`` — and delete it, when that is exact: the next
  layer is Linear, or a conv without padding, and no dropout or padded average pool lies between.
  Otherwise it stays.

Every weight layer keeps at least one unit (a kept dead unit changes nothing).
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Mapping

import torch
from torch import nn

from ..errors import ConfigError
from ..masks import validate_masks

ELEMENTWISE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.SiLU, nn.ELU, nn.CELU,
               nn.SELU, nn.Softplus, nn.Softsign, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Mish,
               nn.Tanhshrink, nn.Identity)
_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
_BETWEEN = ELEMENTWISE + _POOLS + (nn.Dropout, nn.Flatten)
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _is_weight(m: nn.Module) -> bool:
    return isinstance(m, nn.Linear) or isinstance(m, _CONVS)


def _keeps_constant(m: nn.Module) -> bool:
    """A constant unit stays the same constant through `m` (so its fold is exact)."""
    if isinstance(m, ELEMENTWISE + (nn.Flatten,) + (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        return True
    if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
        pad = m.padding if isinstance(m.padding, (tuple, list)) else (m.padding,)
        return all(int(p) == 0 for p in pad) or not m.count_include_pad
    return False  # nn.Dropout: random per element in training mode


def _chain(model: nn.Sequential) -> list[int]:
    kids = list(model.children())
    idx = [i for i, m in enumerate(kids) if _is_weight(m)]
    if not idx:
        raise ConfigError("shrink: the nn.Sequential holds no Linear / Conv layer")
    for i in idx:
        m = kids[i]
        if isinstance(m, _CONVS) and m.groups != 1:
            raise ConfigError(f"shrink: layer {i} is a grouped {type(m).__name__} (groups={m.groups}); "
                              f"only groups=1 is supported")
    for a, b in zip(idx[:-1], idx[1:]):
        for j in range(a + 1, b):
            if not isinstance(kids[j], _BETWEEN):
                raise ConfigError(f"shrink: module {j} ({type(kids[j]).__name__}) sits between weight layers {a} "
                                  f"and {b}; only element-wise activations, Dropout, Flatten and pooling can")
        la, lb = kids[a], kids[b]
        units, n_in = la.weight.shape[0], lb.weight.shape[1]
        if isinstance(la, nn.Linear) and isinstance(lb, _CONVS):
            raise ConfigError(f"shrink: Linear layer {a} feeds conv layer {b}; unsupported (no unflatten)")
        if n_in % units or (n_in != units and not (isinstance(la, _CONVS) and isinstance(lb, nn.Linear))):
            raise ConfigError(f"shrink: layer {a} has {units} outputs but layer {b} reads {n_in} inputs; "
                              f"the layers must form a chain")
    return idx


@torch.no_grad()
def shrink_sequential(model: nn.Sequential, masks: Mapping[str, torch.Tensor]) -> tuple[nn.Sequential, dict, dict]:
    """``(smaller nn.Sequential, its masks, report)`` computing the same function (module doc)."""
    validate_masks(model, masks)
    idx = _chain(model)
    kids = list(model.children())
    names = [n for n, _ in model.named_children()]
    L = [kids[i] for i in idx]
    ones = lambda t: torch.ones_like(t, dtype=torch.bool)  # noqa: E731
    M = [masks.get(f"{names[i]}.weight", ones(l.weight)).clone() for i, l in zip(idx, L)]
    W = [l.weight.detach().masked_fill(~m, 0) for l, m in zip(L, M)]
    MB = [None if l.bias is None else masks.get(f"{names[i]}.bias", ones(l.bias)).clone() for i, l in zip(idx, L)]
    b = [None if l.bias is None else l.bias.detach().masked_fill(~mb, 0) for l, mb in zip(L, MB)]
    removed, folded = [0] * len(L), [0] * len(L)
    changed = True
    while changed:
        changed = False
        for k in range(len(L) - 1):
            between = kids[idx[k] + 1:idx[k + 1]]
            units = W[k].shape[0]
            S = W[k + 1].shape[1] // units  # inputs of the next layer per unit (1, or H·W after Flatten)
            nxt = M[k + 1].reshape(M[k + 1].shape[0], units, S, -1)  # (out, units, S, kernel)
            no_out = ~nxt.any(3).any(2).any(0)
            no_in = ~M[k].reshape(units, -1).any(1)
            c = b[k].clone() if b[k] is not None else W[k].new_zeros(units)
            for m in between:
                if isinstance(m, ELEMENTWISE):
                    c = m(c)
            pad = getattr(L[k + 1], "padding", 0)
            padded = isinstance(pad, str) or any(int(p) != 0 for p in (pad if isinstance(pad, tuple) else (pad,)))
            can_fold = b[k + 1] is not None and all(_keeps_constant(m) for m in between) and not padded
            fold = no_in & ~no_out & (c != 0) & can_fold
            dead = no_out | (no_in & (c == 0)) | fold
            if bool(dead.all()):  # keep one unit, unfolded (exact: it computes what it did)
                dead[0], fold[0] = False, False
            if not bool(dead.any()):
                continue
            if bool(fold.any()):
                # (out, k) @ (k,) -> (out,): the folded units' constant contribution to the next layer.
                w_next = W[k + 1].reshape(W[k + 1].shape[0], units, -1)[:, fold].sum(2)
                delta = w_next @ c[fold]
                b[k + 1] = b[k + 1] + delta
                MB[k + 1] = MB[k + 1] | (delta != 0)
                folded[k] += int(fold.sum())
            live = ~dead
            W[k], M[k] = W[k][live], M[k][live]
            if b[k] is not None:
                b[k], MB[k] = b[k][live], MB[k][live]
            cols = live.repeat_interleave(S)
            W[k + 1], M[k + 1] = W[k + 1][:, cols], M[k + 1][:, cols]
            removed[k] += int(dead.sum())
            changed = True

    new_kids = []
    pos = {i: k for k, i in enumerate(idx)}
    for i, m in enumerate(kids):
        if i not in pos:
            new_kids.append(copy.deepcopy(m))
            continue
        k = pos[i]
        new_kids.append(_rebuilt(m, W[k], b[k]))
    new = nn.Sequential(OrderedDict(zip(names, new_kids)))
    new.train(model.training)
    new_masks = {}
    for key in masks:
        owner, kind = key.rsplit(".", 1)
        k = pos[names.index(owner)]
        new_masks[key] = M[k] if kind == "weight" else MB[k]
    report = {names[i]: {"units_before": L[k].weight.shape[0], "units_after": int(W[k].shape[0]),
                         "removed": removed[k], "folded": folded[k]} for k, i in enumerate(idx[:-1])}
    return new, new_masks, report


def _rebuilt(old: nn.Module, w: torch.Tensor, b: torch.Tensor | None) -> nn.Module:
    with torch.random.fork_rng(devices=[]), torch.device("meta"):  # no throwaway init, RNG untouched
        if isinstance(old, nn.Linear):
            fresh = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
        else:
            fresh = type(old)(w.shape[1], w.shape[0], old.kernel_size, stride=old.stride, padding=old.padding,
                              dilation=old.dilation, bias=b is not None, padding_mode=old.padding_mode)
    fresh.weight = nn.Parameter(w.clone(), requires_grad=old.weight.requires_grad)
    if b is not None:
        fresh.bias = nn.Parameter(b.clone(), requires_grad=old.bias.requires_grad)
    fresh.train(old.training)
    return fresh
