"""Remove hidden units a mask has disconnected, keeping the network's function.

Han et al., "Learning both Weights and Connections for Efficient Neural Networks", NIPS 2015
(arXiv:1506.02626), prune "neurons with zero input or output connections" after weight pruning.
Here it is done exactly. For hidden unit ``j`` of layer ``l`` (output ``j`` of ``layers[l]``,
``l`` < last), with masked weights ``W``, biases ``b`` and activation ``act``:

* no outgoing weights (``W_{l+1}[:, j] == 0``): it contributes nothing -> remove it;
* no incoming weights (``W_l[j, :] == 0``): it outputs the constant ``act(b_j)`` ->
  ``b_{l+1} += W_{l+1}[:, j] * act(b_j)``, then remove it.

Removing a unit removes its column in the next layer, which can disconnect more units, so the
rule is applied until nothing changes.
"""
from __future__ import annotations

import re
from typing import Mapping

import torch
from torch import nn

from ..errors import SparsenetError
from ..models.activations import activation_fn
from ..models.mlp import MLP
from .core import Masks, validate_masks

_KEY = re.compile(r"layers\.(\d+)\.(weight|bias)")


@torch.no_grad()
def remove_unconnected(model: MLP, masks: Mapping[str, torch.Tensor]) -> tuple[MLP, Masks, dict]:
    """A new, smaller `MLP` computing the same function as `model` with `masks` applied.

    `model.layers` must be ``nn.Linear`` with biases. Layers without a mask are dense; masks may
    also cover biases (``layers.l.bias``), in which case a pruned bias that receives a folded
    constant becomes live in the returned masks (its value is no longer 0).

    Returns ``(new_model, new_masks, report)``:

    * ``new_model``: same activation, input and output sizes and number of layers; hidden widths
      shrink and may reach 0 (``nn.Linear(k, 0)`` / ``nn.Linear(0, k)``; a network with an empty
      hidden layer outputs its constant last bias). Its weights have the masks applied (pruned
      entries are 0), the same dtype / device / ``requires_grad`` / training mode as `model`.
      Building it does not advance torch's global random generator.
    * ``new_masks``: the same keys as `masks`, with the rows / columns of removed units dropped.
    * ``report``: ``{"layers.l": {"units_before", "units_after", "folded"}}`` for every hidden
      layer, where ``folded`` counts removed units whose constant output went into the next bias.

    >>> net = MLP([2, 2, 1], activation="relu")
    >>> masks = {"layers.0.weight": torch.tensor([[True, True], [False, False]])}
    >>> small, small_masks, report = remove_unconnected(net, masks)
    >>> small.sizes, report
    ([2, 1, 1], {'layers.0': {'units_before': 2, 'units_after': 1, 'folded': 1}})
    """
    if not isinstance(model, MLP):
        raise SparsenetError(f"remove_unconnected needs an MLP, got {type(model).__name__}")
    for l, layer in enumerate(model.layers):
        if not isinstance(layer, nn.Linear) or layer.bias is None:
            raise SparsenetError(
                f"remove_unconnected needs nn.Linear layers with bias; layers.{l} is {type(layer).__name__}"
                + ("" if isinstance(layer, nn.Linear) else " (densify sparse layers first)")
            )
    validate_masks(model, masks)
    for key in masks:
        if not _KEY.fullmatch(key):
            raise SparsenetError(f"remove_unconnected handles masks of layers.N.weight/bias only, got {key!r}")

    layers = list(model.layers)
    L = len(layers)

    def mask_of(name: str, p: torch.Tensor) -> torch.Tensor:
        m = masks.get(name)
        return torch.ones_like(p, dtype=torch.bool) if m is None else m.to(p.device).clone()

    MW = [mask_of(f"layers.{l}.weight", layer.weight) for l, layer in enumerate(layers)]
    MB = [mask_of(f"layers.{l}.bias", layer.bias) for l, layer in enumerate(layers)]
    W = [layer.weight.detach().masked_fill(~m, 0) for layer, m in zip(layers, MW)]  # (out, in)
    b = [layer.bias.detach().masked_fill(~m, 0) for layer, m in zip(layers, MB)]  # (out,)
    kept = [torch.arange(W[l].shape[0], device=W[l].device) for l in range(L - 1)]
    folded = [0] * (L - 1)
    act = activation_fn(model.activation, model.leaky_slope)

    changed = True
    while changed:
        changed = False
        for l in range(L - 1):
            no_in = ~MW[l].any(dim=1)  # (units,): row of layers[l] all pruned (or no inputs left)
            no_out = ~MW[l + 1].any(dim=0)  # (units,): column of layers[l+1] all pruned
            dead = no_in | no_out
            if not bool(dead.any()):
                continue
            fold = no_in & ~no_out
            if bool(fold.any()):
                # (out, k) @ (k,) -> (out,): the constant contribution of the folded units.
                delta = W[l + 1][:, fold] @ act(b[l][fold])
                b[l + 1] = b[l + 1] + delta
                MB[l + 1] = MB[l + 1] | (delta != 0)
                folded[l] += int(fold.sum())
            live = ~dead
            W[l], MW[l], b[l], MB[l] = W[l][live], MW[l][live], b[l][live], MB[l][live]
            W[l + 1], MW[l + 1] = W[l + 1][:, live], MW[l + 1][:, live]
            kept[l] = kept[l][live]
            changed = True

    sizes = [layers[0].in_features] + [int(k.numel()) for k in kept] + [layers[-1].out_features]
    with torch.random.fork_rng(devices=[]):  # the throwaway init must not shift the user's RNG stream
        new = MLP(sizes, activation=model.activation, leaky_slope=model.leaky_slope)
    for l, (old, fresh) in enumerate(zip(layers, new.layers)):
        fresh.weight = nn.Parameter(W[l].clone(), requires_grad=old.weight.requires_grad)
        fresh.bias = nn.Parameter(b[l].clone(), requires_grad=old.bias.requires_grad)
    new.train(model.training)

    new_masks: Masks = {}
    for key in masks:
        l, kind = _KEY.fullmatch(key).groups()
        new_masks[key] = (MW if kind == "weight" else MB)[int(l)]
    report = {
        f"layers.{l}": {"units_before": layers[l].out_features, "units_after": sizes[l + 1], "folded": folded[l]}
        for l in range(L - 1)
    }
    return new, new_masks, report
