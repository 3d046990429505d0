"""Compact checkpoints of sparse models: `save(model, path)`, `load(path)`, `load_into(model, path)`.

One safetensors file, no pickle. Every `SparseLinear` at ``P`` is stored as its live weights only:
``P.values`` (nnz), ``P.crow`` (out+1, int64), ``P.col`` (nnz, int32) and ``P.bias``; every other
module stores its own parameters and persistent buffers under their state_dict names. The module
tree goes into the file's metadata as JSON (``{"type", "args", "children"}`` per module, types from
a fixed allowlist: sparsenet's MLP / ConvNet / SparseLinear and common ``torch.nn`` layers), so
`load` rebuilds the model — same patterns, same values, same outputs bit for bit — without running
code named by the file. Saving never builds a dense ``out × in`` matrix: a 1%-dense
784-4096-4096-10 `sparse_mlp` takes 1.6 MB instead of its 80 MB dense state_dict.

For a model built by the user (any class), ``sparsify(model, path)`` (= `load_into`) swaps the
checkpoint's sparse layers into it and loads the rest strictly. The dense form stays available as
an export: ``model.state_dict()`` or ``export_dense(model)`` load strictly into an unpruned model.
"""
from __future__ import annotations

import inspect
import json
import os
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from ..errors import SparsenetError
from .sparse_linear import SparseLinear

FORMAT = "sparsenet.compact"
VERSION = "1"

_TORCH_TYPES = [nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                nn.Sequential, nn.ModuleList, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU,
                nn.SiLU, nn.ELU, nn.Softplus, nn.Softmax, nn.LogSoftmax, nn.Identity, nn.Flatten,
                nn.Unflatten, nn.Dropout, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
                nn.AdaptiveAvgPool2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.Embedding]


def _types() -> dict[str, type]:
    from ..models.convnet import ConvNet
    from ..models.mlp import MLP

    out = {f"torch.nn.{t.__name__}": t for t in _TORCH_TYPES}
    out.update({"sparsenet.MLP": MLP, "sparsenet.ConvNet": ConvNet, "sparsenet.SparseLinear": SparseLinear})
    return out


_ARGS = {  # sparsenet types: constructor arguments read from the module's attributes
    "sparsenet.MLP": ("sizes", "activation", "leaky_slope"),
    "sparsenet.ConvNet": ("input_shape", "channels", "hidden", "num_classes", "kernel", "activation", "leaky_slope"),
    "sparsenet.SparseLinear": ("in_features", "out_features", "kernel"),
}


class _NoStructure(Exception):
    pass


def _jsonable(v, where: str):
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, (tuple, list, torch.Size)):
        return [_jsonable(x, where) for x in v]
    raise _NoStructure(f"{where} has a {type(v).__name__} argument")


def _describe(module: nn.Module, where: str) -> dict:
    names = {t: n for n, t in _types().items()}
    tname = names.get(type(module))
    if tname is None:
        raise _NoStructure(f"{where or 'the model'} is a {type(module).__module__}.{type(module).__qualname__}, "
                           f"not one of the types a checkpoint can rebuild")
    if tname in _ARGS:
        args = {a: _jsonable(getattr(module, a), where) for a in _ARGS[tname]}
    elif tname in ("torch.nn.Sequential", "torch.nn.ModuleList"):
        args = {}
    else:
        args = {}
        for p in list(inspect.signature(type(module).__init__).parameters.values())[1:]:
            if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) or p.name in ("device", "dtype"):
                continue
            if p.name == "bias":
                args["bias"] = getattr(module, "bias", None) is not None
            elif hasattr(module, p.name):
                args[p.name] = _jsonable(getattr(module, p.name), where)
    if tname == "sparsenet.SparseLinear":
        args["bias"] = module.bias is not None
    children = {n: _describe(c, f"{where}.{n}" if where else n) for n, c in module.named_children()}
    return {"type": tname, "args": args, "children": children}


def _construct(node: dict, where: str) -> nn.Module:
    types = _types()
    cls = types.get(node.get("type"))
    if cls is None:
        raise SparsenetError(f"checkpoint names an unknown module type {node.get('type')!r} at "
                             f"{where or 'the root'}; it was written by another version or edited")
    args = dict(node.get("args", {}))
    if cls is nn.Sequential:
        return nn.Sequential()
    if cls is nn.ModuleList:
        return nn.ModuleList()
    with torch.device("meta"):
        return cls(**args)


def _build(node: dict, tensors, where: str) -> nn.Module:
    if node.get("type") == "sparsenet.SparseLinear":
        return _sparse_from(node["args"], tensors, where)
    module = _construct(node, where)
    children = node.get("children", {})
    if isinstance(module, nn.Sequential):
        return nn.Sequential(OrderedDict((n, _build(c, tensors, _join(where, n))) for n, c in children.items()))
    if isinstance(module, nn.ModuleList):
        return nn.ModuleList(_build(c, tensors, _join(where, n)) for n, c in children.items())
    for n, c in children.items():
        setattr(module, n, _build(c, tensors, _join(where, n)))
    _assign_own(module, tensors, where)
    return module


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _take(tensors, key: str) -> torch.Tensor:
    if key not in tensors:
        raise SparsenetError(f"checkpoint lacks tensor {key!r}; it is incomplete or for another model")
    return tensors.pop(key)


def _sparse_from(args: dict, tensors, where: str, kernel: str | None = None) -> SparseLinear:
    values = _take(tensors, _join(where, "values"))
    crow, col = _take(tensors, _join(where, "crow")), _take(tensors, _join(where, "col"))
    bias = _take(tensors, _join(where, "bias")) if args.get("bias", True) else None
    layer = SparseLinear(int(args["in_features"]), int(args["out_features"]), crow, col, values, bias,
                         kernel=kernel or args.get("kernel", "auto"))
    if values.dtype != layer.values.dtype:  # the constructor makes float32; keep the saved precision
        layer.values = nn.Parameter(values.contiguous())
        if bias is not None:
            layer.bias = nn.Parameter(bias.contiguous())
    return layer


def _own_keys(module: nn.Module) -> list[tuple[str, str]]:
    keys = [("p", n) for n, p in module._parameters.items() if p is not None]
    keys += [("b", n) for n, b in module._buffers.items()
             if b is not None and n not in module._non_persistent_buffers_set]
    return keys


def _assign_own(module: nn.Module, tensors, where: str) -> None:
    for kind, n in _own_keys(module):
        t = _take(tensors, _join(where, n))
        old = getattr(module, n)
        if tuple(t.shape) != tuple(old.shape):
            raise SparsenetError(f"checkpoint tensor {_join(where, n)!r} has shape {tuple(t.shape)}, the "
                                 f"module expects {tuple(old.shape)}")
        if kind == "p":
            module._parameters[n] = nn.Parameter(t, requires_grad=old.requires_grad)
        else:
            module._buffers[n] = t
    for n, b in module._buffers.items():
        if b is not None and b.is_meta:
            raise SparsenetError(f"cannot rebuild {where or 'the model'}: its buffer {n!r} is not saved; "
                                 f"build the model yourself and use sparsify(model, path)")


# ------------------------------------------------------------------------------------- save


def _tensors_of(model: nn.Module) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for where, module in model.named_modules():
        if isinstance(module, SparseLinear):  # never module.state_dict(): that is dense
            out[_join(where, "values")] = module.values.detach()
            out[_join(where, "crow")] = module.crow.to(torch.int64)
            out[_join(where, "col")] = module.col.to(torch.int32)
            if module.bias is not None:
                out[_join(where, "bias")] = module.bias.detach()
            continue
        for _, n in _own_keys(module):
            out[_join(where, n)] = getattr(module, n).detach()
    return out


def save(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write `model` as a compact checkpoint (see the module docstring); returns the path.

    Models of the allowlisted types are rebuilt by `load`; for any other model the tensors are
    still saved compactly and ``sparsify(your_model, path)`` loads them.
    """
    from safetensors.torch import save as to_bytes

    from ..io import write_bytes

    if not isinstance(model, nn.Module):
        raise SparsenetError(f"sparsenet.save needs an nn.Module, got {type(model).__name__}")
    try:
        structure, why = _describe(model, ""), ""
    except _NoStructure as e:
        structure, why = None, str(e)
    tensors = {k: v.contiguous().cpu() for k, v in _tensors_of(model).items()}
    sparse = {w: [m.out_features, m.in_features] for w, m in model.named_modules() if isinstance(m, SparseLinear)}
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    meta = {"format": FORMAT, "version": VERSION, "structure": json.dumps(structure), "no_structure": why,
            "sparse": json.dumps(sparse), "frozen": json.dumps(frozen), "training": json.dumps(model.training)}
    return write_bytes(path, to_bytes(tensors, metadata=meta))


# ------------------------------------------------------------------------------------- load


def _read(path) -> tuple[dict[str, torch.Tensor], dict]:
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise SparsenetError(f"no checkpoint file at {path}" + (" (it is a directory)" if path.is_dir() else ""))
    fix = "it is truncated or corrupt; save it again with sparsenet.save(model, path)"
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # SafetensorError and friends: not a readable safetensors file
        raise SparsenetError(f"{path} is not a readable safetensors file ({type(e).__name__}); {fix}") from None
    if meta.get("format") != FORMAT:
        raise SparsenetError(f"{path} is a safetensors file but not a sparsenet checkpoint (no "
                             f"format={FORMAT!r} metadata); a plain state_dict loads with "
                             f"model.load_state_dict(safetensors.torch.load_file(path))")
    if meta.get("version") != VERSION:
        raise SparsenetError(f"{path} is a sparsenet checkpoint of version {meta.get('version')!r}; this "
                             f"sparsenet reads version {VERSION}")
    try:
        parsed = {k: json.loads(meta[k]) for k in ("structure", "sparse", "frozen", "training")}
    except (KeyError, ValueError) as e:
        raise SparsenetError(f"{path} has damaged sparsenet metadata ({type(e).__name__}); {fix}") from None
    parsed["no_structure"] = meta.get("no_structure", "")
    return tensors, parsed


def _finish(model: nn.Module, tensors: dict, path) -> None:
    if tensors:
        raise SparsenetError(f"{path} holds tensors the model has no place for: {', '.join(sorted(tensors)[:5])}"
                             f"; it was saved from another architecture")


def load(path: str | os.PathLike) -> nn.Module:
    """Rebuild the model `save` wrote: same module tree, patterns, values, flags (see module doc)."""
    tensors, meta = _read(path)
    if meta["structure"] is None:
        raise SparsenetError(f"{path} holds no module structure ({meta['no_structure']}); build the model "
                             f"and load the checkpoint with sparsify(model, path)")
    if not isinstance(meta["structure"], dict):
        raise SparsenetError(f"{path} has a damaged module structure; save it again with sparsenet.save")
    try:
        model = _build(meta["structure"], tensors, "")
    except (TypeError, KeyError, AttributeError) as e:
        raise SparsenetError(f"{path}: the module structure does not rebuild ({type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else ''}); save it again with sparsenet.save") from None
    _finish(model, tensors, path)
    params = dict(model.named_parameters())
    for n in meta["frozen"]:
        if n in params:
            params[n].requires_grad_(False)
    model.train(bool(meta["training"]))
    return model


def load_into(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a compact checkpoint into `model` (built by the user), in place, and return it.

    Each sparse layer of the checkpoint replaces the module at the same name, which must be an
    ``nn.Linear`` or a `SparseLinear` of the same shape (a `SparseLinear` keeps its kernel); every
    other parameter and persistent buffer is loaded strictly (missing, extra or mis-shaped tensors
    are one-line errors).
    """
    tensors, meta = _read(path)
    for where, (out_f, in_f) in meta["sparse"].items():
        try:
            old = model.get_submodule(where)
        except AttributeError:
            raise SparsenetError(f"{path} has a sparse layer {where!r} that the model lacks; it was saved "
                                 f"from another architecture") from None
        if not isinstance(old, (nn.Linear, SparseLinear)) or (old.out_features, old.in_features) != (out_f, in_f):
            got = type(old).__name__ + (f" {old.out_features}x{old.in_features}" if hasattr(old, "in_features") else "")
            raise SparsenetError(f"{path}: layer {where!r} is a {out_f}x{in_f} SparseLinear in the checkpoint "
                                 f"but the model has a {got} there")
        has_bias = getattr(old, "bias", None) is not None
        if has_bias != (_join(where, "bias") in tensors):
            raise SparsenetError(f"{path}: layer {where!r} {'lacks' if has_bias else 'has'} a bias in the "
                                 f"checkpoint but {'has' if has_bias else 'lacks'} one in the model")
        args = {"in_features": in_f, "out_features": out_f, "bias": has_bias}
        new = _sparse_from(args, tensors, where, kernel=getattr(old, "kernel", None))
        ref = old.values if isinstance(old, SparseLinear) else old.weight
        new = new.to(ref.device)
        new.values.requires_grad_(ref.requires_grad)
        new.train(old.training)
        parent, _, name = where.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, name, new)
    for where, module in model.named_modules():
        if isinstance(module, SparseLinear):
            if where not in meta["sparse"]:
                raise SparsenetError(f"{path} stores layer {where!r} dense but the model has a SparseLinear "
                                     f"there; densify that layer (sparsenet.densify) before loading")
            continue
        for _, n in _own_keys(module):
            key = _join(where, n)
            t = _take(tensors, key)
            dst = getattr(module, n)
            if tuple(t.shape) != tuple(dst.shape):
                raise SparsenetError(f"{path}: {key!r} has shape {tuple(t.shape)} in the checkpoint but "
                                     f"{tuple(dst.shape)} in the model")
            with torch.no_grad():
                dst.copy_(t)
    _finish(model, tensors, path)
    return model
