"""The criterion registry and the helpers every criterion shares.

A criterion answers *what to keep*: ``score(model, *, batch=None, loss_fn=None, names=None, ...)``
returns ``{parameter name: score tensor}`` where a higher score means "keep". Criteria are pure:
they never change the model's parameters, gradients (``.grad``) or buffers. Gradients are taken
with `torch.func.functional_call` on detached copies of the parameters, so ``.grad`` is untouched
and parameters with ``requires_grad=False`` still get scores.

Scores of a *weight* criterion have the weight's shape; scores of a *neuron* criterion have shape
``(out_units,)`` (one per row / output channel). `expand_scores` broadcasts the latter onto weights.

One registry, two families. ``"model"`` criteria score a model from its current weights (and a
batch, for the data-dependent ones): `prune`, `ScheduledPruning` and ``sparsenet prune`` use
them, and ``CRITERIA.names()`` lists them. ``"ticket"`` criteria (Zhou et al. 2019, `ticket`)
score a lottery ticket from its initial and final weights, ``rule(w_init, w_final, generator)``:
IMP levels and supermasks use them (``CRITERIA.names("ticket")``); called on a model they need
``init={name: tensor}``. ``random`` belongs to both. ``CRITERIA.names("all")`` lists every entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ..errors import ConfigError, SparsenetError
from ..masks import mask_shapes, prunable_names, sparse_layers
from ..registry import Registry

Batch = tuple[torch.Tensor, torch.Tensor]
Scores = dict[str, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Criterion:
    """A registered criterion: the scoring function and what it needs."""

    name: str
    fn: Callable[..., Scores]
    needs: str | None  # the data it needs, in words; None = data-free
    paper: str
    granularity: str = "weight"  # "weight": one score per weight; "neuron": one per output unit
    families: tuple[str, ...] = ("model",)  # see FAMILIES
    rule: Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor] | None = None  # ticket: (w_init, w_final, g)

    def __call__(self, model: nn.Module, **kwargs) -> Scores:
        sparse = sparse_layers(model)
        if not sparse:
            return self.fn(model, **kwargs)
        return _score_sparse(self.fn, model, sparse, kwargs)


def _score_sparse(fn, model: nn.Module, sparse: dict, kwargs: dict) -> Scores:
    """Score a model with SparseLinear layers on its live weights only.

    The criterion runs on a dense twin (`export_dense`: each SparseLinear as an nn.Linear with
    zeros off the pattern, keyed ``<layer>.weight``); the SparseLinear's dead entries then score
    ``-inf`` (already dead). The model itself is never touched, so criteria stay pure.
    """
    from ..nn import export_dense  # lazy: sparsenet.nn sits above the criteria

    if kwargs.get("names") is not None:  # ``<layer>.values`` is accepted for ``<layer>.weight``
        kwargs = dict(kwargs, names=[n[:-len("values")] + "weight" if n.endswith("values")
                                     and n[:-len("values")] + "weight" in sparse else n
                                     for n in kwargs["names"]])
    scores = fn(export_dense(model), **kwargs)
    out = {}
    for n, sc in scores.items():
        layer = sparse.get(n)
        if layer is not None and sc.shape == (layer.out_features, layer.in_features):
            sc = sc.masked_fill(~layer.mask().to(sc.device), float("-inf"))
        out[n] = sc
    return out


FAMILIES = {
    "model": "scores a model from its current weights (and a batch if it needs data); prune uses these",
    "ticket": "scores a lottery ticket from its initial and final weights (Zhou et al. 2019); "
              "sparsenet lottery --criterion / --supermask-criteria use these",
}
RENAMED = {("ticket", "movement"): "large_movement"}  # (family, old name) -> name now


class CriterionRegistry(Registry[Criterion]):
    """The one criterion registry; `names` lists one family (default ``"model"``) or ``"all"``."""

    def names(self, family: str = "model") -> list[str]:
        if family != "all" and family not in FAMILIES:
            raise ConfigError(f"unknown criterion family {family!r}; valid families: all, {', '.join(FAMILIES)}")
        return [n for n in super().names() if family == "all" or family in self._items[n].families]


CRITERIA = CriterionRegistry("criterion")


def register(name: str, *, needs: str | None, paper: str, granularity: str = "weight",
             families: tuple[str, ...] = ("model",), rule=None):
    """Decorator: register ``fn`` as criterion `name` (of `families`; a ticket criterion has a `rule`)."""
    bad = [f for f in families if f not in FAMILIES]
    if bad or not families:
        raise ValueError(f"criterion {name!r}: families {families!r}; valid: {', '.join(FAMILIES)}")
    if ("ticket" in families) != (rule is not None):
        raise ValueError(f"criterion {name!r}: a ticket criterion needs a rule(w_init, w_final, g), others none")

    def add(fn):
        CRITERIA.register(name, Criterion(name, fn, needs, paper, granularity, tuple(families), rule))
        return fn

    return add


def get_criterion(name: str, family: str = "model") -> Criterion:
    """The criterion called `name` in `family`; a name outside it raises `ConfigError` in one line
    listing the family's criteria (and the new name of a renamed one)."""
    valid = CRITERIA.names(family)
    if isinstance(name, str) and name in valid:
        return CRITERIA.get(name)
    listed = f"valid {family} criteria: {', '.join(valid)}"
    if (family, name) in RENAMED:
        raise ConfigError(f"{family} criterion {name!r} is now called {RENAMED[family, name]!r}; {listed}")
    if isinstance(name, str) and name in CRITERIA:
        other = ", ".join(CRITERIA.get(name).families)
        raise ConfigError(f"criterion {name!r} is a {other} criterion ({FAMILIES[other.split(', ')[0]]}), "
                          f"not a {family} one; {listed}")
    if family in ("model", "all"):
        listed = f"valid criteria: {', '.join(valid)}"
    raise ConfigError(f"unknown criterion {name!r}; {listed}")


def score(model: nn.Module, criterion: str, **kwargs) -> Scores:
    """Scores of `model` under the registered `criterion` of any family (keyword arguments go to
    it; a ticket criterion needs ``init=``)."""
    return get_criterion(criterion, family="all")(model, **kwargs)


# ------------------------------------------------------------------------------ helpers


def target_names(model: nn.Module, names=None) -> list[str]:
    """`names` checked against the model's maskable names (default: its prunable weights)."""
    if names is None:
        return prunable_names(model)
    params = mask_shapes(model)
    names = list(names)
    for n in names:
        if n not in params:
            raise ConfigError(f"{n!r} names no parameter of the model; prunable weights: "
                              f"{', '.join(prunable_names(model))}")
    return names


def need_batch(criterion: str, batch, needs: str) -> Batch:
    """Check `batch` is ``(x, y)`` tensors with the same first dimension; else one-line error."""
    if batch is None:
        raise ConfigError(f"criterion {criterion!r} needs data: pass batch=(x, y) with {needs}")
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2
            and all(isinstance(t, torch.Tensor) for t in batch)):
        raise ConfigError(f"criterion {criterion!r}: batch must be a tuple (x, y) of tensors, "
                          f"got {type(batch).__name__}")
    x, y = batch
    if x.shape[0] == 0 or x.shape[0] != y.shape[0]:
        raise ConfigError(f"criterion {criterion!r}: batch x has {x.shape[0]} examples and y has "
                          f"{y.shape[0]}; give the same non-zero number")
    return x, y


def loss_or_default(loss_fn: LossFn | None) -> LossFn:
    return F.cross_entropy if loss_fn is None else loss_fn


def detached_params(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter and buffer, detached (shares memory; never written to)."""
    out = {n: p.detach() for n, p in model.named_parameters()}
    out.update({n: b for n, b in model.named_buffers()})
    return out


def loss_grads(model: nn.Module, names: list[str], batch: Batch, loss_fn: LossFn | None,
               create_graph: bool = False) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor]:
    """``(leaves, grads, loss)``: ∂L/∂θ for `names` at the model's values, on leaf copies.

    With `create_graph` the gradients can be differentiated again (Hessian-vector products).
    """
    x, y = batch
    base = detached_params(model)
    leaves = {n: base[n].clone().requires_grad_(True) for n in names}
    loss = loss_or_default(loss_fn)(functional_call(model, {**base, **leaves}, (x,)), y)
    g = torch.autograd.grad(loss, [leaves[n] for n in names], create_graph=create_graph, allow_unused=True)
    grads = {n: (torch.zeros_like(leaves[n]) if gi is None else gi) for n, gi in zip(names, g)}
    if not create_graph:
        grads = {n: gi.detach() for n, gi in grads.items()}
    return leaves, grads, loss


def per_sample_square_grads(model: nn.Module, names: list[str], inputs: tuple[torch.Tensor, ...],
                            scalar: Callable[..., torch.Tensor], chunk: int = 32) -> dict[str, torch.Tensor]:
    """``Σ_n (∂ scalar(f(x_n), *rest_n) / ∂θ)²`` for `names`: sums of squared per-sample gradients.

    `inputs` are tensors batched along dim 0 (the first is the model input). Per-sample gradients
    come from `torch.func.vmap` over chunks of `chunk` examples to bound memory.
    """
    from torch.func import grad, vmap

    base = detached_params(model)
    rest = {k: v for k, v in base.items() if k not in names}
    train = {n: base[n] for n in names}

    def one(tp, x, *others):
        out = functional_call(model, {**rest, **tp}, (x.unsqueeze(0),))
        return scalar(out, *[o.unsqueeze(0) for o in others])

    g1 = vmap(grad(one), in_dims=(None,) + (0,) * len(inputs))
    total = {n: torch.zeros_like(train[n]) for n in names}
    for i in range(0, inputs[0].shape[0], chunk):
        g = g1(train, *[t[i:i + chunk] for t in inputs])
        for n in names:
            total[n] += (g[n] ** 2).sum(0)
    return total


def module_of(model: nn.Module, name: str) -> nn.Module:
    """The module that owns parameter `name` (``"layers.0.weight"`` -> ``model.layers[0]``)."""
    owner = name.rsplit(".", 1)[0] if "." in name else ""
    return model.get_submodule(owner)


def layer_module(model: nn.Module, name: str, criterion: str) -> nn.Module:
    """The nn.Linear / nn.Conv2d owning parameter `name`, or a one-line ConfigError for other layers."""
    mod = module_of(model, name)
    if not isinstance(mod, (nn.Linear, nn.Conv2d)):
        raise ConfigError(f"criterion {criterion!r} works on nn.Linear / nn.Conv2d layers; "
                          f"{name!r} belongs to a {type(mod).__name__}")
    return mod


def as_matrix(weight: torch.Tensor) -> torch.Tensor:
    """A Linear / Conv weight as ``(out, fan_in)``: conv filters are flattened (C·kh·kw)."""
    return weight.reshape(weight.shape[0], -1)


@torch.no_grad()
def layer_io(model: nn.Module, names: list[str], x: torch.Tensor, criterion: str,
             outputs: bool = False) -> dict[str, tuple[torch.Tensor, torch.Tensor | None]]:
    """Per weight name: the layer's inputs as rows ``(N·positions, fan_in)`` (conv inputs unfolded
    into patches, matching `as_matrix`) and, with `outputs`, its outputs ``(N·positions, out)``.

    Hooks are added for one forward pass and removed; the model is otherwise untouched.
    """
    captured: dict[str, tuple] = {}
    handles = []
    for n in names:
        mod = layer_module(model, n, criterion)
        if isinstance(mod, nn.Conv2d) and mod.groups != 1:
            raise ConfigError(f"criterion {criterion!r} needs ungrouped convolutions; {n!r} has groups={mod.groups}")

        def hook(m, inp, out, n=n):
            a = inp[0]
            if isinstance(m, nn.Conv2d):
                # (N, C, H, W) -> (N, C·kh·kw, L) -> (N·L, C·kh·kw): one row per output position.
                if isinstance(m.padding, str):
                    raise ConfigError(f"criterion {criterion!r}: conv {n!r} uses padding={m.padding!r}; "
                                      "give explicit integer padding")
                cols = F.unfold(a, m.kernel_size, dilation=m.dilation, padding=m.padding, stride=m.stride)
                a = cols.transpose(1, 2).reshape(-1, cols.shape[1])
                o = out.permute(0, 2, 3, 1).reshape(-1, out.shape[1]) if outputs else None
            else:
                a = a.reshape(-1, a.shape[-1])
                o = out.reshape(-1, out.shape[-1]) if outputs else None
            captured[n] = (a.detach().clone(), None if o is None else o.detach().clone())

        handles.append(mod.register_forward_hook(hook))
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return captured


def expand_scores(scores: Mapping[str, torch.Tensor], model: nn.Module) -> Scores:
    """Per-unit scores ``(out,)`` broadcast onto their weights' shapes; weight scores unchanged."""
    shapes = mask_shapes(model)  # a SparseLinear's weight scores have its dense (out, in) shape
    out = {}
    for n, s in scores.items():
        shape = shapes[n]
        if s.shape == shape:
            out[n] = s
        elif s.dim() == 1 and s.shape[0] == shape[0]:
            out[n] = s.reshape(-1, *([1] * (len(shape) - 1))).expand(shape).clone()
        else:
            raise SparsenetError(f"score {n!r} has shape {tuple(s.shape)}; expected {tuple(shape)} "
                                 f"or ({shape[0]},)")
    return out


__all__ = ["Batch", "CRITERIA", "Criterion", "CriterionRegistry", "FAMILIES", "RENAMED", "Scores", "as_matrix", "expand_scores", "get_criterion",
           "layer_io", "loss_grads", "module_of", "need_batch", "per_sample_square_grads", "register",
           "score", "target_names"]
