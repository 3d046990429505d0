"""Layer collapse: a mask that empties a layer or leaves no path from input to output.

Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by iteratively
conserving synaptic flow", NeurIPS 2020 (arXiv:2006.05467) name it: a pruned network whose
layer is entirely cut computes a constant, however long it is trained.

Paths are followed through the prunable weights in model order, as a chain: a unit of layer
``l+1`` is reachable if some live weight connects it to a reachable unit of layer ``l`` (conv
weights connect channels; a conv followed by a Linear with ``C·S`` inputs maps channel c to
inputs ``c·S .. (c+1)·S - 1``). When the weights do not form such a chain, only emptied layers
are detected.
"""
from __future__ import annotations

from typing import Mapping

import torch

from ..errors import SparsenetError


class LayerCollapseError(SparsenetError):
    """Pruning would disconnect the network (pass ``force=True`` to prune anyway)."""


def unit_connectivity(mask: torch.Tensor) -> torch.Tensor:
    """``(out_units, in_units)`` bool: any live weight between the two (conv: over the kernel)."""
    return mask if mask.dim() == 2 else mask.reshape(mask.shape[0], mask.shape[1], -1).any(2)


def _link(prev_out: int, conn: torch.Tensor) -> torch.Tensor | None:
    """`conn` re-expressed with `prev_out` input units (conv -> flatten -> linear), or None."""
    n_in = conn.shape[1]
    if n_in == prev_out:
        return conn
    if prev_out > 0 and n_in % prev_out == 0:
        return conn.reshape(conn.shape[0], prev_out, n_in // prev_out).any(2)
    return None


def collapse_problems(masks: Mapping[str, torch.Tensor]) -> list[str]:
    """One line per problem: emptied layers, then "no path" if the chain is cut."""
    masks = {n: m for n, m in masks.items() if not n.endswith("bias")}  # biases carry no connections
    problems = [f"layer {n} is emptied (0 of {m.numel()} weights left)"
                for n, m in masks.items() if m.numel() and not bool(m.any())]
    names = list(masks)
    if not names or any(m.dim() < 2 for m in masks.values()):  # 1-D (SparseLinear values): no chain
        return problems
    reach = torch.ones(masks[names[0]].shape[1], dtype=torch.bool)
    for n in names:
        conn = _link(reach.numel(), unit_connectivity(masks[n]).cpu())
        if conn is None:
            return problems  # not a chain: paths cannot be followed
        reach = (conn & reach[None, :]).any(1)
        if not bool(reach.any()):
            problems.append(f"no path from input to output is left (cut at {n})")
            break
    return problems


def check_collapse(masks: Mapping[str, torch.Tensor], force: bool = False) -> list[str]:
    """Raise `LayerCollapseError` on collapse unless `force`; return the problems (warnings)."""
    problems = collapse_problems(masks)
    if problems and not force:
        raise LayerCollapseError(
            f"layer collapse: {'; '.join(problems)}; lower the sparsity, add min_density=..., "
            "use per-layer budgets, or pass force=True")
    return problems
