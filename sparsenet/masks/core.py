"""Masks: the shared currency, ``dict[parameter name, torch.bool tensor]``.

``True`` = the weight is kept (alive), ``False`` = pruned. Masks live outside the module:
pruning zeroes weights in place (`apply_masks`) and never renames parameters, so a pruned
model's ``state_dict`` loads into an unpruned model of the same architecture.

A `SparseLinear` layer is masked under the key ``<layer>.weight`` with a dense ``(out, in)`` mask,
the same key and shape as its state_dict entry and as the nn.Linear it replaces (so a mask moves
between a dense model and its sparse twin unchanged). Its current mask is its pattern
(`starting_masks`), and `apply_masks` *shrinks* its pattern to the mask instead of zeroing.
"""
from __future__ import annotations

import fnmatch
import os
import re
from typing import Iterable, Mapping

import torch
from torch import nn

from ..errors import ConfigError, SparsenetError
from ..io import load_tensors, save_tensors
from .layers import layer_view, layer_views

Masks = dict[str, torch.Tensor]
"""Parameter name -> bool tensor of the parameter's shape (True = kept)."""


# ---------------------------------------------------------------------------------- names


def _classify(model: nn.Module, include_bias: bool) -> tuple[list[str], list[tuple[str, str]]]:
    """(prunable names, [(skipped name, why)]) in model order; see `prunable_names`."""
    owners = {}
    for mname, module in model.named_modules():
        for local in module._parameters:
            owners.setdefault(f"{mname}.{local}" if mname else local, (module, local))
    names, skipped = [], []
    for name, p in model.named_parameters():
        module, local = owners[name]
        torch_pruned = local.endswith("_orig") and f"{local[:-5]}_mask" in module._buffers
        base = local[:-5] if torch_pruned else local
        view = layer_view(module)
        if view is not None:
            if base == view.param:
                names.append(name if view.native else _virtual(name, view.param))
            elif include_bias and base == "bias":
                names.append(name)
        elif p.dim() >= 2 and local.endswith("weight"):
            skipped.append((name, type(module).__name__))
    return names, skipped


def _virtual(param_name: str, local: str) -> str:
    """``<layer>.values`` -> ``<layer>.weight``: a layer whose trained tensor is not its dense
    weight (SparseLinear) is masked under its dense weight's name."""
    return param_name[: -len(local)] + "weight"


def sparse_layers(model: nn.Module) -> dict[str, nn.Module]:
    """``{"<layer>.weight": layer}`` for every layer whose mask key is no parameter (SparseLinear:
    it trains ``values``, and is masked by its dense weight's name)."""
    return {k: v.module for k, v in layer_views(model).items() if not v.native}


def mask_shapes(model: nn.Module) -> dict[str, torch.Size]:
    """Every maskable name and its mask shape: the parameters, plus ``<layer>.weight`` (the dense
    weight's shape) for each layer that trains something else (SparseLinear: (out, in))."""
    shapes = {n: p.shape for n, p in model.named_parameters()}
    for key, view in layer_views(model).items():
        if not view.native:
            shapes[key] = view.shape
    return shapes


def _owner(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else ""


def skipped_weights(model: nn.Module) -> list[tuple[str, str]]:
    """``[(name, module type)]``: the >=2-D ``*weight`` parameters that `prunable_names` leaves out
    because they belong to no Linear / Conv / SparseLinear layer (e.g. ``nn.Embedding``,
    ``nn.MultiheadAttention.in_proj_weight``); prune them by passing ``names=[...]`` explicitly."""
    return _classify(model, False)[1]


def prunable_names(model: nn.Module, skip: str | Iterable[str] = (), *, include_bias: bool = False) -> list[str]:
    """Names of the prunable weights of `model`, in model order.

    Prunable = the ``weight`` of every ``nn.Linear`` and convolution (``nn.Conv1d/2d/3d`` and
    transposed) and the ``values`` of every `SparseLinear`; with `include_bias` also their
    ``bias``. Other >=2-D weights (``nn.Embedding``, attention ``in_proj_weight``, RNN weights) are
    not pruned by default: `skipped_weights` lists them (and `prune` warns once about them); name
    them in ``names=`` to prune them anyway. A layer pruned earlier with ``torch.nn.utils.prune``
    is prunable under its ``weight_orig`` name, and `starting_masks` reads its ``weight_mask``.

    `skip` removes names; each entry is an exact name, an ``fnmatch`` glob (``"layers.*"``), or
    ``"first"`` / ``"last"`` for the first / last prunable layer. An entry that matches nothing
    raises `ConfigError` listing the prunable names (a typo would otherwise silently prune
    everything).

    >>> from sparsenet.models import MLP
    >>> net = MLP([4, 3, 3, 2])
    >>> prunable_names(net)
    ['layers.0.weight', 'layers.1.weight', 'layers.2.weight']
    >>> prunable_names(net, skip=["first", "last"])
    ['layers.1.weight']
    >>> prunable_names(net, skip="last", include_bias=True)
    ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']
    """
    names = _classify(model, include_bias)[0]
    if isinstance(skip, str):
        skip = [skip]
    drop: set[str] = set()
    for entry in skip:
        if entry in ("first", "last") and names:  # every prunable tensor of the first / last layer
            layer = _owner(names[0 if entry == "first" else -1])
            hit = {n for n in names if _owner(n) == layer}
        else:
            hit = {n for n in names if n == entry or fnmatch.fnmatchcase(n, entry)}
        if not hit:
            raise ConfigError(
                f"skip entry {entry!r} matches no prunable weight; prunable names: "
                f"{', '.join(names) if names else '(none)'} (or 'first' / 'last' / a glob)"
            )
        drop |= hit
    return [n for n in names if n not in drop]


# ------------------------------------------------------------------------------ validation


def validate_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> None:
    """Check that every key names a parameter of `model` and its value is a bool tensor of the
    parameter's shape; raise `SparsenetError` naming the first bad key otherwise."""
    if not isinstance(masks, Mapping):
        raise SparsenetError(f"masks must be a dict of parameter name -> bool tensor, got {type(masks).__name__}")
    params = mask_shapes(model)
    for key, m in masks.items():
        if key not in params:
            raise SparsenetError(
                f"mask {key!r} names no parameter of the model; parameters: {', '.join(params)}"
            )
        if not isinstance(m, torch.Tensor):
            raise SparsenetError(f"mask {key!r} is a {type(m).__name__}, expected a bool tensor")
        if m.dtype != torch.bool:
            raise SparsenetError(f"mask {key!r} has dtype {m.dtype}, expected torch.bool")
        if m.shape != params[key]:
            raise SparsenetError(
                f"mask {key!r} has shape {tuple(m.shape)} but the parameter has shape "
                f"{tuple(params[key])}"
            )


def _check_bool_dict(masks: Mapping[str, torch.Tensor], what: str = "masks") -> None:
    if not isinstance(masks, Mapping):
        raise SparsenetError(f"{what} must be a dict of name -> bool tensor, got {type(masks).__name__}")
    for key, m in masks.items():
        if not isinstance(m, torch.Tensor) or m.dtype != torch.bool:
            got = m.dtype if isinstance(m, torch.Tensor) else type(m).__name__
            raise SparsenetError(f"{what}[{key!r}] must be a bool tensor, got {got}")


def _check_same_layout(a: Mapping, b: Mapping) -> None:
    _check_bool_dict(a, "a")
    _check_bool_dict(b, "b")
    if set(a) != set(b):
        only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
        raise SparsenetError(f"masks have different keys: only in a: {only_a}, only in b: {only_b}")
    for k in a:
        if a[k].shape != b[k].shape:
            raise SparsenetError(
                f"mask {k!r} has shape {tuple(a[k].shape)} in a but {tuple(b[k].shape)} in b"
            )


# ---------------------------------------------------------------------------- build/apply


def full_masks(model: nn.Module, names: Iterable[str] | None = None) -> Masks:
    """All-True masks for `names` (default: `prunable_names(model)`)."""
    shapes = mask_shapes(model)
    devices = {n: p.device for n, p in model.named_parameters()}
    views = layer_views(model)
    names = prunable_names(model) if names is None else list(names)
    out: Masks = {}
    for n in names:
        if n not in shapes:
            raise SparsenetError(f"{n!r} names no parameter of the model; parameters: {', '.join(shapes)}")
        dev = views[n].parameter.device if n in views else devices[n]
        out[n] = torch.ones(shapes[n], dtype=torch.bool, device=dev)
    return out


def starting_masks(model: nn.Module, names: Iterable[str] | None = None) -> Masks:
    """The layers' current masks (their survivors): each prunable layer's `LayerView.mask` — a
    SparseLinear's pattern, the mask enforced on a dense layer (`enforce_masks`, `prune`), else
    all-True. A parameter pruned earlier with ``torch.nn.utils.prune`` (``<x>_orig`` with a
    ``<x>_mask`` buffer) starts from that mask, so pruning continues among the weights torch kept."""
    out = full_masks(model, names)
    views = layer_views(model)
    for n in out:
        if n in views:
            out[n] = views[n].mask()
            continue
        owner, local = (n.rsplit(".", 1) if "." in n else ("", n))
        if local.endswith("_orig"):
            tm = model.get_submodule(owner)._buffers.get(local[:-5] + "_mask")
            if tm is not None and tm.shape == out[n].shape:
                out[n] = tm.detach() != 0
    return out


@torch.no_grad()
def apply_masks(model: nn.Module, masks: Mapping[str, torch.Tensor], *, optimizer=None) -> None:
    """Zero the pruned weights of `model` in place (parameters keep their names and identity).

    Each layer's mask goes through its `LayerView.shrink_`: a dense layer's pruned weights are
    zeroed (``masked_fill_``, so a pruned ``inf``/``nan`` becomes 0 too; an enforced mask shrinks
    with them), a SparseLinear's pattern shrinks. With `optimizer` the pruned entries' state is
    dropped (zeroed) and the survivors keep theirs. Other names (biases) are zeroed.
    """
    validate_masks(model, masks)
    params = dict(model.named_parameters())
    views = layer_views(model)
    for key, m in masks.items():
        if key in views:
            views[key].shrink_(m, optimizer=optimizer)
            continue
        p = params[key]
        p.masked_fill_(~m.to(p.device), 0)


# ------------------------------------------------------------------------------ statistics


def count_live(masks: Mapping[str, torch.Tensor]) -> int:
    """Number of kept (True) entries over all masks."""
    _check_bool_dict(masks)
    return int(sum(int(m.sum()) for m in masks.values()))


def count_total(masks: Mapping[str, torch.Tensor]) -> int:
    """Number of entries over all masks."""
    _check_bool_dict(masks)
    return int(sum(m.numel() for m in masks.values()))


def layer_stats(masks: Mapping[str, torch.Tensor]) -> list[dict]:
    """One ``{"name", "live", "total", "density"}`` per mask, in the masks' order.

    ``density = live / total`` (an empty mask, e.g. a width-0 layer, has density 1.0: nothing
    in it was removed).

    >>> layer_stats({"w": torch.tensor([[True, False], [False, False]])})
    [{'name': 'w', 'live': 1, 'total': 4, 'density': 0.25}]
    """
    _check_bool_dict(masks)
    rows = []
    for name, m in masks.items():
        live, total = int(m.sum()), m.numel()
        rows.append({"name": name, "live": live, "total": total, "density": live / total if total else 1.0})
    return rows


def density(masks: Mapping[str, torch.Tensor]) -> float:
    """Fraction of the masked entries that are kept (``1 - sparsity``); 1.0 for no entries."""
    total = count_total(masks)
    return count_live(masks) / total if total else 1.0


def sparsity(masks: Mapping[str, torch.Tensor]) -> float:
    """Fraction of the masked entries that are removed (``1 - density``)."""
    return 1.0 - density(masks)


def hamming_distance(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> float:
    """Fraction of entries on which `a` and `b` differ (0 = identical, 1 = complementary).

    Both must have the same keys and shapes. 0.0 when there are no entries.
    """
    _check_same_layout(a, b)
    total = sum(a[k].numel() for k in a)
    if total == 0:
        return 0.0
    diff = sum(int((a[k] ^ b[k].to(a[k].device)).sum()) for k in a)
    return diff / total


def overlap(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor], *, kind: str = "fraction") -> float:
    """How much of `a`'s kept set `b` also keeps.

    ``kind="fraction"`` (default): ``|a ∧ b| / |a|``, the fraction of `a`'s live weights that
    are live in `b` (asymmetric; 1.0 when `b` keeps everything `a` keeps). ``kind="iou"``:
    ``|a ∧ b| / |a ∨ b|`` (symmetric). An empty denominator gives 1.0.

    >>> a = {"w": torch.tensor([True, True, False, False])}
    >>> b = {"w": torch.tensor([True, False, True, False])}
    >>> overlap(a, b), overlap(a, b, kind="iou")
    (0.5, 0.3333333333333333)
    """
    if kind not in ("fraction", "iou"):
        raise ConfigError(f"unknown overlap kind {kind!r}; valid kinds: fraction, iou")
    _check_same_layout(a, b)
    inter = sum(int((a[k] & b[k].to(a[k].device)).sum()) for k in a)
    if kind == "fraction":
        denom = sum(int(a[k].sum()) for k in a)
    else:
        denom = sum(int((a[k] | b[k].to(a[k].device)).sum()) for k in a)
    return inter / denom if denom else 1.0


# ------------------------------------------------------------------------------------- I/O


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def save_masks(path: str | os.PathLike, masks: Mapping[str, torch.Tensor]) -> os.PathLike:
    """Write masks atomically as safetensors (bool tensors, moved to CPU)."""
    _check_bool_dict(masks)
    return save_tensors(path, dict(masks))


def load_masks(path: str | os.PathLike, model: nn.Module | None = None) -> Masks:
    """Read masks written by `save_masks`.

    safetensors does not keep insertion order: with `model` the masks are validated against it
    and returned in the model's parameter order; without, in natural name order
    (``layers.2`` before ``layers.10``).
    """
    masks = load_tensors(path)
    _check_bool_dict(masks, f"masks in {os.fspath(path)}")
    if model is None:
        return {k: masks[k] for k in sorted(masks, key=_natural_key)}
    validate_masks(model, masks)
    order = [n for n, _ in model.named_parameters() if n in masks]
    return {k: masks[k] for k in order}
