"""Allocation: HOW MUCH to keep per layer (uniform, global, ERK/ER, floors, budgets) and
layer-collapse detection."""
from .collapse import LayerCollapseError, check_collapse, collapse_problems, unit_connectivity
from .counts import distribute, erk_factor, floors
from .select import ALLOCATIONS, allocate, check_allocation, check_budgets, layer_counts

__all__ = ["ALLOCATIONS", "LayerCollapseError", "allocate", "check_allocation", "check_budgets",
           "check_collapse", "collapse_problems", "distribute", "erk_factor", "floors", "layer_counts",
           "unit_connectivity"]
