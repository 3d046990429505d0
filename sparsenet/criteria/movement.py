"""Movement pruning: Sanh, Wolf & Rush, "Movement Pruning: Adaptive Sparsity by Fine-Tuning",
NeurIPS 2020 (arXiv:2005.07683).

Keep the weights moving away from zero during fine-tuning. The (hard) movement score accumulates
over training steps t
    S = -Σ_t (∂L/∂W)^{(t)} ⊙ W^{(t)}          (higher = keep).
`MovementAccumulator` is a training-loop hook (``after_backward``) that adds ``-w ⊙ ∂L/∂w`` after
every backward pass; the criterion reads it. Given only a batch, the criterion returns the one-step
score ``-w ⊙ ∂L/∂w``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from ..masks import mask_shapes
from ..masks.layers import layer_views
from ..train.hooks import Hook, StepContext
from .base import Scores, loss_grads, need_batch, register, target_names

_NEEDS = ("a MovementAccumulator attached to training (accumulator=...), or a batch (x, y) "
          "for a one-step score")


class MovementAccumulator(Hook):
    """Hook for the training loop: ``S += -w ⊙ ∂L/∂w`` after each backward pass."""

    def __init__(self, model: nn.Module, names: list[str] | None = None):
        self.names = target_names(model, names)
        shapes = mask_shapes(model)
        self.scores = {n: torch.zeros(shapes[n], dtype=torch.float32) for n in self.names}
        self.steps = 0

    @torch.no_grad()
    def after_backward(self, c: StepContext) -> None:
        params = dict(c.model.named_parameters())
        views = layer_views(c.model)  # a SparseLinear: its live values' movement, dense-shaped
        for n in self.names:
            if n in views and not views[n].native:
                w, g = views[n].dense_weight(), views[n].dense_grad()
            else:
                w, g = params[n].detach(), params[n].grad
            if g is not None:
                s = self.scores[n]
                if s.device != g.device:
                    s = self.scores[n] = s.to(g.device)
                s -= (w * g).to(torch.float32)
        self.steps += 1


@register("movement", needs=_NEEDS, paper="Sanh et al. 2020, arXiv:2005.07683: -sum_t w*dL/dw")
def movement(model: nn.Module, *, batch=None, loss_fn=None, names=None,
             accumulator: MovementAccumulator | None = None) -> Scores:
    """Accumulated movement scores, or ``-w ⊙ ∂L/∂w`` on `batch` when no accumulator is given."""
    names = target_names(model, names)
    if accumulator is not None:
        missing = [n for n in names if n not in accumulator.scores]
        if missing:
            raise ConfigError(f"the movement accumulator has no scores for {missing}; build it with names={names}")
        return {n: accumulator.scores[n].clone() for n in names}
    if batch is None:
        raise ConfigError(f"criterion 'movement' needs data: pass {_NEEDS}")
    batch = need_batch("movement", batch, _NEEDS)
    params = dict(model.named_parameters())
    _, g, _ = loss_grads(model, names, batch, loss_fn)
    return {n: -(params[n].detach() * g[n]) for n in names}
