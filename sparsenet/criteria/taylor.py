"""First-order loss sensitivity: Taylor (per weight and per neuron) and SNIP.

Taylor, per weight — Molchanov, Mallya, Tyree, Frosio & Kautz, "Importance Estimation for Neural
Network Pruning", CVPR 2019 (arXiv:1906.10771): the first-order change of the loss when ``w`` is
set to 0 is ``ΔL ≈ -g·w``, so  score(w) = |w · ∂L/∂w|  (gradient of the mean loss over the batch).

Taylor, per neuron — Molchanov, Tyree, Karras, Aila & Kautz, "Pruning Convolutional Neural
Networks for Resource Efficient Inference", ICLR 2017 (arXiv:1611.06440): for the output ``z`` of
unit ``i`` (a feature map for conv layers, ``M`` positions),
score(i) = mean over examples n of | (1/M) Σ_m z_{n,i,m} · ∂L_n/∂z_{n,i,m} |.
Here ``z`` is the layer's output before the activation.

SNIP — Lee, Ajanthan & Torr, "SNIP: Single-shot Network Pruning based on Connection
Sensitivity", ICLR 2019 (arXiv:1810.02340): with a gate ``c`` on every weight,
s_j = |∂L/∂c_j| / Σ_k |∂L/∂c_k| = |g_j w_j| / Σ_k |g_k w_k|, meant to be taken at initialisation.
"""
from __future__ import annotations

import torch
from torch import nn

from .base import Scores, layer_module, loss_grads, loss_or_default, need_batch, register, target_names

_NEEDS = "a batch of training examples (x, y), e.g. 256 of them"


@register("taylor", needs=_NEEDS, paper="Molchanov et al. 2019, arXiv:1906.10771: |w·dL/dw|")
def taylor(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """``|w ⊙ ∂L/∂w|`` with the gradient of the mean loss over `batch`."""
    batch = need_batch("taylor", batch, _NEEDS)
    names = target_names(model, names)
    params = dict(model.named_parameters())
    _, g, _ = loss_grads(model, names, batch, loss_fn)
    return {n: (params[n].detach() * g[n]).abs() for n in names}


@register("snip", needs=_NEEDS, paper="Lee et al. 2019, arXiv:1810.02340: |g·w| / sum |g·w|")
def snip(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """Connection sensitivity ``|g ⊙ w|`` normalised to sum to 1 over all `names`."""
    batch = need_batch("snip", batch, _NEEDS)
    raw = taylor(model, batch=batch, loss_fn=loss_fn, names=names)
    total = sum(float(s.sum()) for s in raw.values())
    return {n: s / total if total > 0 else s for n, s in raw.items()}


@register("taylor-neuron", needs=_NEEDS, granularity="neuron",
          paper="Molchanov et al. 2017, arXiv:1611.06440: mean_n |mean_m z·dL/dz|")
def taylor_neuron(model: nn.Module, *, batch=None, loss_fn=None, names=None) -> Scores:
    """One score per output unit (row / output channel) of every named weight's layer."""
    x, y = need_batch("taylor-neuron", batch, _NEEDS)
    names = target_names(model, names)
    per_unit = unit_output_products(model, names, x, y, loss_fn, "taylor-neuron", reduce="mean")
    return {n: p.abs().mean(0) for n, p in per_unit.items()}


def unit_output_products(model: nn.Module, names: list[str], x: torch.Tensor, y: torch.Tensor,
                         loss_fn, criterion: str, reduce: str = "mean") -> dict[str, torch.Tensor]:
    """Per name, ``(N, out)``: ``Σ_m z·∂L_n/∂z`` (``reduce="sum"``) or ``(1/M) Σ_m`` (``"mean"``)
    over the M positions of a conv map, for each example n and unit; ``L_n`` is example n's loss."""
    outs: dict[str, torch.Tensor] = {}
    probes: dict[str, torch.Tensor] = {}
    handles = []
    for n in names:
        mod = layer_module(model, n, criterion)

        def hook(m, inp, out, n=n):
            # z + 0 with a zero probe leaf: ∂L/∂probe = ∂L/∂z, and the graph through z stays
            # whole, so an earlier layer's z still reaches the loss through the later layers.
            probes[n] = torch.zeros_like(out, requires_grad=True)
            outs[n] = out.detach()
            return out + probes[n]

        handles.append(mod.register_forward_hook(hook))
    try:
        with torch.enable_grad():
            logits = model(x)
            loss = loss_or_default(loss_fn)(logits, y) * x.shape[0]  # mean -> sum over examples
            # Only the probes are differentiated: parameters' .grad stays untouched.
            grads = torch.autograd.grad(loss, [probes[n] for n in names], allow_unused=True)
    finally:
        for h in handles:
            h.remove()
    result = {}
    for n, g in zip(names, grads):
        z = outs[n]
        g = torch.zeros_like(z) if g is None else g
        prod = z * g  # (N, out) or (N, C, H, W)
        if prod.dim() > 2:
            prod = prod.flatten(2).mean(2) if reduce == "mean" else prod.flatten(2).sum(2)
        result[n] = prod
    return result
