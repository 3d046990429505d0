"""Physical removal: a smaller model with the disconnected units deleted, same outputs.

``nn.Sequential`` stacks go through `sparsenet.prune.shrink_sequential`; MLPs through
`sparsenet.masks.remove_unconnected` (rows/columns deleted, constant outputs of
units without inputs folded into the next bias). `ConvNet` channels and hidden units are removed
here with the same rules, applied until nothing changes, for unit ``u`` of layer ``l``:

* no live outgoing weight: it affects nothing — delete it;
* no live incoming weight: its output is the constant ``c = act(b_u)`` (after max-pooling too). If
  ``c == 0`` delete it; if the next layer is Linear fold ``W_next[:, cols(u)].sum(1) · c`` into its
  bias and delete it; a nonzero constant read by a padded conv is kept (zero padding makes the
  border differ, so folding would not be exact).
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..errors import ConfigError
from ..masks import remove_unconnected, validate_masks
from ..models.convnet import ConvNet
from ..models.mlp import MLP
from .shrink_sequential import shrink_sequential


def shrink(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> tuple[nn.Module, dict, dict]:
    """``(smaller model, its masks, report)``: an `MLP`, a `ConvNet`, or any ``nn.Sequential`` stack
    of Linear / Conv layers with element-wise activations (`shrink_sequential`)."""
    if isinstance(model, MLP):
        return remove_unconnected(model, masks)
    if isinstance(model, ConvNet):
        return _shrink_convnet(model, masks)
    if isinstance(model, nn.Sequential):
        return shrink_sequential(model, masks)
    raise ConfigError(f"physical removal supports MLP, ConvNet and nn.Sequential stacks of Linear / Conv "
                      f"layers with element-wise activations, got {type(model).__name__}")


@torch.no_grad()
def _shrink_convnet(model: ConvNet, masks: Mapping[str, torch.Tensor]) -> tuple[ConvNet, dict, dict]:
    validate_masks(model, masks)
    layers = list(model.convs) + list(model.fcs)
    keys = [f"convs.{i}" for i in range(len(model.convs))] + [f"fcs.{i}" for i in range(len(model.fcs))]
    M = [masks.get(f"{k}.weight", torch.ones_like(l.weight, dtype=torch.bool)).clone() for k, l in zip(keys, layers)]
    W = [l.weight.detach().masked_fill(~m, 0) for l, m in zip(layers, M)]
    b = [l.bias.detach().clone() for l in layers]
    n_conv = len(model.convs)
    S = model.spatial
    act = model._act
    removed = {k: 0 for k in keys[:-1]}
    folded = {k: 0 for k in keys[:-1]}

    def cols(l: int, units: torch.Tensor) -> torch.Tensor:
        """Input columns of layer l+1 that read the given unit mask of layer l."""
        return units.repeat_interleave(S) if l == n_conv - 1 else units

    changed = True
    while changed:
        changed = False
        for l in range(len(layers) - 1):
            nxt = M[l + 1]
            out_any = nxt.reshape(nxt.shape[0], nxt.shape[1], -1).any(2).any(0)  # (n_in of l+1,)
            if l == n_conv - 1:
                out_any = out_any.reshape(-1, S).any(1)
            no_out = ~out_any
            no_in = ~M[l].reshape(M[l].shape[0], -1).any(1)
            const = act(b[l])
            foldable = no_in & ~no_out & ((const == 0) | torch.tensor(l >= n_conv - 1))
            dead = no_out | foldable
            if l < len(layers) - 1 and int((~dead).sum()) == 0:
                dead[0] = False  # keep one unit: layers need >= 1 unit (the output is then constant-ish)
            if not bool(dead.any()):
                continue
            fold = foldable & ~no_out & (const != 0) & dead
            if bool(fold.any()):
                c = cols(l, fold)
                w_next = W[l + 1].reshape(W[l + 1].shape[0], -1) if l >= n_conv - 1 else None
                cst = const[fold].repeat_interleave(S) if l == n_conv - 1 else const[fold]
                b[l + 1] = b[l + 1] + w_next[:, c] @ cst
                folded[keys[l]] += int(fold.sum())
            live = ~dead
            W[l], M[l], b[l] = W[l][live], M[l][live], b[l][live]
            c = cols(l, live)
            W[l + 1], M[l + 1] = W[l + 1][:, c], M[l + 1][:, c]
            removed[keys[l]] += int(dead.sum())
            changed = True

    channels = tuple(int(W[i].shape[0]) for i in range(n_conv))
    hidden = tuple(int(W[i].shape[0]) for i in range(n_conv, len(layers) - 1))
    with torch.random.fork_rng(devices=[]):
        new = ConvNet(model.input_shape, channels, hidden, model.num_classes, model.kernel,
                      model.activation, model.leaky_slope)
    for old, fresh, w, bb in zip(layers, list(new.convs) + list(new.fcs), W, b):
        fresh.weight = nn.Parameter(w.clone(), requires_grad=old.weight.requires_grad)
        fresh.bias = nn.Parameter(bb.clone(), requires_grad=old.bias.requires_grad)
    new.train(model.training)
    new_masks = {f"{k}.weight": M[i] for i, k in enumerate(keys) if f"{k}.weight" in masks}
    report = {k: {"units_before": layers[i].weight.shape[0], "units_after": int(W[i].shape[0]),
                  "removed": removed[k], "folded": folded[k]} for i, k in enumerate(keys[:-1])}
    return new, new_masks, report
