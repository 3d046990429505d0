"""Criteria: WHAT to keep. ``score(model, *, batch=None, loss_fn=None, names=None, ...)`` ->
``{parameter name: score tensor}`` (higher = keep); pure; registered by name in `CRITERIA`, the one
registry, in two families: ``"model"`` (``CRITERIA.names()``, what `prune` uses) and ``"ticket"``
(``CRITERIA.names("ticket")``: Zhou et al.'s scores from a ticket's initial and final weights).

>>> from sparsenet.models import MLP
>>> import torch
>>> net = MLP([3, 2])
>>> sorted(CRITERIA.names())[:3]
['fisher', 'gating', 'gating-weight']
>>> score(net, "magnitude")["layers.0.weight"].shape
torch.Size([2, 3])
"""
from . import fisher, gating, grasp, hebbian, magnitude, movement, obd, obs, redundancy, taylor, ticket, variance
from .base import CRITERIA, FAMILIES, Criterion, expand_scores, get_criterion, register, score
from .hessian import hessian_diagonal
from .movement import MovementAccumulator
from .obs import compensate as obs_compensate
from .redundancy import units_needed
from .ticket import ticket_criterion_names, ticket_scores
from .variance import fold as variance_fold

__all__ = ["CRITERIA", "FAMILIES", "Criterion", "MovementAccumulator", "expand_scores", "get_criterion",
           "hessian_diagonal", "obs_compensate", "register", "score", "ticket_criterion_names",
           "ticket_scores", "units_needed", "variance_fold",
           "fisher", "gating", "grasp", "hebbian", "magnitude", "movement", "obd", "obs", "redundancy",
           "taylor", "ticket", "variance"]
