"""Pruning: the functional API (`prune`), structures (neuron / channel), physical removal
(`shrink`), the Han et al. 2015 rule, and training-loop hooks."""
from .api import SCOPES, apply_pruning, prune
from .han import PAPER_DENSITY, density_masks, han_masks, han_schedule, quality_for_density
from .hooks import MaskHook, ScheduledPruning
from .shrink import shrink
from .shrink_sequential import shrink_sequential
from .structure import STRUCTURES, unit_links

__all__ = ["PAPER_DENSITY", "SCOPES", "STRUCTURES", "MaskHook", "ScheduledPruning", "apply_pruning",
           "density_masks", "han_masks", "han_schedule", "prune", "quality_for_density", "shrink", "shrink_sequential", "unit_links"]
