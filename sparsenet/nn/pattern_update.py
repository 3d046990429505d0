"""Pattern updates for `SparseLinear`: shrink to a sub-pattern, grow new connections.

Both rebuild the CSR pattern (``crow``, ``col`` and the transposed ``tcrow`` / ``trow`` /
``tperm``) and keep the same ``values`` `nn.Parameter` object (its ``.data`` is swapped), so an
optimizer built before the update still holds it. With ``optimizer=`` every per-entry state tensor
of ``values`` (SGD ``momentum_buffer``, Adam ``exp_avg`` / ``exp_avg_sq``, any state of shape
``(nnz,)``) is remapped: survivors keep their state, new entries start at zero; scalar state
(Adam's ``step``) is kept. The gradient is remapped the same way.

    new_values[j] = old_values[src[j]]  if src[j] >= 0   (a survivor)
                  = init[j]             otherwise         (a new connection, 0 by default)
"""
from __future__ import annotations

import torch

from ..errors import SparsenetError
from ..kernels.pattern import CSRPattern

_FIELDS = ("crow", "col", "tcrow", "trow", "tperm")


def _gather(old: torch.Tensor, src: torch.Tensor, fill: torch.Tensor | None = None) -> torch.Tensor:
    """``old[src]`` with zeros (or `fill`) where ``src < 0``; (nnz_old,) -> (nnz_new,)."""
    base = torch.zeros(src.numel(), dtype=old.dtype, device=old.device) if fill is None else fill.to(old)
    if old.numel() == 0:
        return base
    hit = src >= 0
    return torch.where(hit, old[src.clamp(min=0)], base)  # one gather, no boolean indexing


def _swap_data(p: torch.nn.Parameter, new: torch.Tensor) -> None:
    """``p.data = new`` for a `new` of another shape, dropping autograd's cached gradient
    accumulator of `p`. Autograd caches one accumulator per leaf, with the leaf's shape at the
    time, for as long as any graph refers to it (e.g. last step's ``loss``, still alive when the
    next forward runs); assigning ``.data`` resets it only when the dtype or device changes, so a
    same-dtype swap would leave the old shape behind and the next backward would fail. Passing
    through a tensor of another dtype forces the reset."""
    if p.data.shape != new.shape:
        p.data = torch.empty(0, dtype=torch.float64 if new.dtype != torch.float64 else torch.float32,
                             device=new.device)
    p.data = new


@torch.no_grad()
def _rebuild(layer, row: torch.Tensor, col: torch.Tensor, src: torch.Tensor,
             init: torch.Tensor | None, optimizer) -> None:
    """Install the row-major pattern (`row`, `col`) whose entry j comes from old entry ``src[j]``."""
    old_nnz = layer.nnz
    device = layer.values.device
    crow = torch.zeros(layer.out_features + 1, dtype=torch.int64, device=device)
    crow[1:] = torch.cumsum(torch.bincount(row.to(device), minlength=layer.out_features), 0)
    p = CSRPattern.build(layer.out_features, layer.in_features, crow, col.to(device))
    for name in _FIELDS:
        setattr(layer, name, getattr(p, name))  # registered buffers: plain assignment replaces them
    layer._pattern = p
    v = layer.values
    src = src.to(device)
    _swap_data(v, _gather(v.data, src, init).contiguous())
    if v.grad is not None:
        v.grad = _gather(v.grad, src).contiguous() if v.grad.numel() == old_nnz else None
    if optimizer is not None:
        state = optimizer.state.get(v)
        if state:
            for k, t in list(state.items()):
                if torch.is_tensor(t) and t.dim() == 1 and t.numel() == old_nnz:
                    state[k] = _gather(t, src).contiguous()


def shrink_(layer, keep: torch.Tensor, *, optimizer: torch.optim.Optimizer | None = None) -> None:
    """Drop connections in place: `keep` is a bool mask over the live values ``(nnz,)`` or a dense
    ``(out, in)`` mask (True = keep; True entries off the pattern are ignored, nothing grows)."""
    if not torch.is_tensor(keep) or keep.dtype != torch.bool:
        raise SparsenetError(f"shrink needs a bool mask, got {getattr(keep, 'dtype', type(keep).__name__)}")
    keep = keep.to(layer.col.device)
    if keep.shape == (layer.out_features, layer.in_features):
        keep = keep[layer.row, layer.col.long()]
    elif keep.shape != (layer.nnz,):
        raise SparsenetError(f"shrink mask must have shape ({layer.nnz},) (live values) or "
                             f"{(layer.out_features, layer.in_features)} (dense), got {tuple(keep.shape)}")
    if bool(keep.all()):  # nothing to drop: the pattern (and every tensor built on it) stays
        return
    src = keep.nonzero().squeeze(1)  # row-major order is kept
    _rebuild(layer, layer.row[src], layer.col.long()[src], src, None, optimizer)


def grow_(layer, rows, cols, values: torch.Tensor | None = None, *,
          optimizer: torch.optim.Optimizer | None = None) -> None:
    """Add connections at (`rows`, `cols`) in place; their values start at `values` (default 0)
    and their optimizer state at zero. Positions already live keep their value and state."""
    device = layer.col.device
    rows = torch.as_tensor(rows, dtype=torch.int64, device=device).reshape(-1)
    cols = torch.as_tensor(cols, dtype=torch.int64, device=device).reshape(-1)
    if rows.shape != cols.shape:
        raise SparsenetError(f"grow needs as many rows as cols, got {rows.numel()} and {cols.numel()}")
    if rows.numel() and (int(rows.min()) < 0 or int(rows.max()) >= layer.out_features
                         or int(cols.min()) < 0 or int(cols.max()) >= layer.in_features):
        raise SparsenetError(f"grow position out of range for a {layer.out_features}x{layer.in_features} layer")
    new_vals = (torch.zeros(rows.numel(), dtype=layer.values.dtype, device=device) if values is None
                else torch.as_tensor(values, dtype=layer.values.dtype, device=device).reshape(-1))
    if new_vals.numel() != rows.numel():
        raise SparsenetError(f"grow got {new_vals.numel()} values for {rows.numel()} positions")
    n_in = layer.in_features
    old_key = layer.row * n_in + layer.col.long()
    new_key = rows * n_in + cols
    key = torch.cat([old_key, new_key])
    # Row-major order; on duplicates the old entry (stable sort, listed first) wins.
    order = torch.sort(key, stable=True).indices
    skey = key[order]
    first = torch.ones_like(skey, dtype=torch.bool)
    first[1:] = skey[1:] != skey[:-1]
    order, skey = order[first], skey[first]
    nnz = layer.nnz
    src = torch.where(order < nnz, order, torch.full_like(order, -1))
    init = torch.zeros(order.numel(), dtype=layer.values.dtype, device=device)
    is_new = order >= nnz
    init[is_new] = new_vals[order[is_new] - nnz]
    _rebuild(layer, skey // n_in, skey % n_in, src, init, optimizer)


def rewire_(layer, drop: torch.Tensor, rows, cols, values: torch.Tensor | None = None, *,
             optimizer: torch.optim.Optimizer | None = None) -> None:
    """Drop the live values where `drop` (bool, (nnz,)) is True and grow (`rows`, `cols`) in one
    pattern rebuild: the same result as `shrink_` then `grow_` (a position dropped and grown again
    starts anew, at its new value with zero state), at the cost of one."""
    device = layer.col.device
    drop = drop.to(device)
    if drop.shape != (layer.nnz,) or drop.dtype != torch.bool:
        raise SparsenetError(f"rewire needs a bool drop mask of shape ({layer.nnz},), got "
                             f"{drop.dtype} {tuple(drop.shape)}")
    rows = torch.as_tensor(rows, dtype=torch.int64, device=device).reshape(-1)
    cols = torch.as_tensor(cols, dtype=torch.int64, device=device).reshape(-1)
    if rows.shape != cols.shape:
        raise SparsenetError(f"rewire needs as many rows as cols, got {rows.numel()} and {cols.numel()}")
    if rows.numel() and (int(rows.min()) < 0 or int(rows.max()) >= layer.out_features
                         or int(cols.min()) < 0 or int(cols.max()) >= layer.in_features):
        raise SparsenetError(f"rewire position out of range for a {layer.out_features}x{layer.in_features} layer")
    new_vals = (torch.zeros(rows.numel(), dtype=layer.values.dtype, device=device) if values is None
                else torch.as_tensor(values, dtype=layer.values.dtype, device=device).reshape(-1))
    if new_vals.numel() != rows.numel():
        raise SparsenetError(f"rewire got {new_vals.numel()} values for {rows.numel()} positions")
    n_in = layer.in_features
    kept = (~drop).nonzero().squeeze(1)
    old_key = (layer.row * n_in + layer.col.long())[kept]
    key = torch.cat([old_key, rows * n_in + cols])
    order = torch.sort(key, stable=True).indices  # on duplicates the surviving old entry wins
    skey = key[order]
    first = torch.ones_like(skey, dtype=torch.bool)
    first[1:] = skey[1:] != skey[:-1]
    order, skey = order[first], skey[first]
    n_old = kept.numel()
    is_new = order >= n_old
    src = torch.where(is_new, torch.full_like(order, -1), kept[order.clamp(max=max(n_old - 1, 0))] if n_old
                      else torch.full_like(order, -1))
    init = torch.zeros(order.numel(), dtype=layer.values.dtype, device=device)
    init[is_new] = new_vals[order[is_new] - n_old]
    _rebuild(layer, skey // n_in, skey % n_in, src, init, optimizer)


def set_pattern_(layer, mask: torch.Tensor, *, optimizer: torch.optim.Optimizer | None = None) -> None:
    """Make the live set exactly the dense bool `mask` (out, in): grow what is missing (at 0),
    drop what is not in it."""
    if mask.shape != (layer.out_features, layer.in_features) or mask.dtype != torch.bool:
        raise SparsenetError(f"pattern mask must be bool {(layer.out_features, layer.in_features)}, "
                             f"got {mask.dtype} {tuple(mask.shape)}")
    mask = mask.to(layer.col.device)
    missing = mask & ~layer.mask()
    if bool(missing.any()):
        r, c = missing.nonzero(as_tuple=True)
        grow_(layer, r, c, optimizer=optimizer)
    shrink_(layer, mask, optimizer=optimizer)


__all__ = ["grow_", "rewire_", "set_pattern_", "shrink_"]
