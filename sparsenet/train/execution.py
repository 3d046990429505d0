"""How a masked network trains: dense layers + mask enforcement, CSR layers, or per layer the faster.

Execution changes how a step is computed, never what: the same seed gives the same trained weights
within float tolerance either way (tests/train/test_execution.py, SGD / momentum / Adam / weight decay).

    masked  every layer stays dense; `MaskHook` zeroes the pruned gradients after backward and the
            pruned weights after each step                        -- O(out * in) per step and layer
    csr     every masked nn.Linear becomes a `SparseLinear` holding its mask's pattern
            (conv layers and bias masks stay masked)              -- O(nnz) per step and layer
    auto    per layer: CSR when its measured CSR step beats its masked step
            (`sparsenet.train.execution_timing`: one step of that shape, batch, density and optimizer,
            measured once per machine and cached), masked otherwise; a layer at density 1 stays dense

Why it gives the same numbers: a pruned weight is 0 and gets gradient 0 under `MaskHook`, so SGD,
momentum, weight decay (λ·0) and Adam's moments leave it at 0; the live weights see the same
gradients and updates as the CSR layer's values, up to summation order.

`prepare_execution` converts in place and returns an `Execution`: its ``hooks`` go to the engine,
its ``choices`` (one dict per masked layer: layer, shape, density, choice, reason) go to the run's
results, and ``restore()`` puts the original nn.Linear modules back holding the trained weights
(zeros off the pattern), so masks, state_dict keys and every artifact after training are exactly as
with masked training. Build the optimizer *after* `prepare_execution` (it owns new parameters).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import torch
from torch import nn

from ..errors import ConfigError
from ..nn import SparseLinear
from .hooks import MaskHook

EXECUTIONS = ("auto", "masked", "csr")
EXECUTION_HELP = ("how masked layers train: masked = dense layers with the masks enforced; csr = the masked "
                  "nn.Linear layers become SparseLinear (O(nnz) per step); auto = per layer, CSR when its "
                  "measured CSR step is faster (measured once per machine, cached); the per-layer choice is "
                  "recorded in results.json. Does not change the results (within float tolerance), so it is "
                  "not part of the run name")


def check_execution(mode: str) -> str:
    """`mode` when it is one of `EXECUTIONS`, else a one-line `ConfigError` listing them."""
    if mode not in EXECUTIONS:
        raise ConfigError(f"--execution {mode!r} is not valid; valid: {', '.join(EXECUTIONS)}")
    return mode


@dataclass
class Execution:
    """What `prepare_execution` did: the hooks to train with, the per-layer choices, and the undo.

    `replan` (after a pruning event changed the masks, e.g. ``--schedule gradual``) moves layers that
    became sparse enough onto CSR in the middle of training, handing their optimizer state over."""

    model: nn.Module
    mode: str
    choices: list[dict]
    hooks: list = field(default_factory=list)
    _swapped: list = field(default_factory=list, repr=False)  # (parent, child name, nn.Linear, SparseLinear)
    plan_kwargs: dict = field(default_factory=dict, repr=False)  # batch_size, optimizer, measure, fused

    @torch.no_grad()
    def restore(self) -> nn.Module:
        """Put the original nn.Linear modules back, holding the trained weights (zeros off the pattern)."""
        for parent, child_name, linear, sparse in self._swapped:
            linear.weight.copy_(sparse.to_dense())
            if linear.bias is not None:
                linear.bias.copy_(sparse.bias)
            setattr(parent, child_name, linear)
        self._swapped = []
        return self.model

    def replan(self, masks: Mapping[str, torch.Tensor], optimizer: torch.optim.Optimizer | None = None, *,
               step: int | None = None) -> list[dict]:
        """The masks changed (they only shrink): decide again for the layers still trained masked,
        convert those the plan now puts on CSR (with `optimizer`, their parameters and per-entry
        state move to the SparseLinear: survivors keep theirs), and hold the new masks on the rest.
        Returns the choices that changed (each with ``"from_step"``); `choices` is updated."""
        plan = {c["layer"]: c for c in plan_execution(self.model, masks, self.mode, defer_dense=True,
                                                      **self.plan_kwargs)}
        layers = _linear_layers(self.model)
        changed = []
        for i, old in enumerate(self.choices):
            key = old["layer"]
            new = plan.get(key)
            entry = layers.get(key)
            if new is None or old["choice"] == "csr" or new["choice"] != "csr" or entry is None:
                if new is not None and old["choice"] != "csr":
                    self.choices[i] = {**new, **({"from_step": old["from_step"]} if "from_step" in old else {})}
                continue
            self._to_csr(entry, masks[key], optimizer)
            self.choices[i] = {**new, "from_step": step}
            changed.append(self.choices[i])
        held = {c["layer"]: masks[c["layer"]] for c in self.choices if c["choice"] == "masked" and c["layer"] in masks}
        holders = [h for h in self.hooks if isinstance(h, MaskHook)]
        if not holders and held:
            self.hooks.append(MaskHook(held))
        for hook in holders:
            hook.masks = held
        return changed

    def _to_csr(self, entry, mask: torch.Tensor, optimizer) -> None:
        parent, child_name, linear = entry
        sparse = SparseLinear.from_linear(linear, mask.to(linear.weight.device))
        setattr(parent, child_name, sparse)
        self._swapped.append((parent, child_name, linear, sparse))
        if optimizer is not None:
            rows, cols = sparse.row, sparse.col.long()
            hand_over(optimizer, linear.weight, sparse.values, lambda t: t[rows, cols])
            if linear.bias is not None:
                hand_over(optimizer, linear.bias, sparse.bias, lambda t: t)


def hand_over(optimizer: torch.optim.Optimizer, old: torch.Tensor, new: torch.Tensor, gather) -> None:
    """Make `optimizer` train `new` in place of `old`: the same parameter-group slot, and its state
    tensors of `old`'s shape mapped through `gather` (scalars such as Adam's step are kept)."""
    for group in optimizer.param_groups:
        for j, p in enumerate(group["params"]):
            if p is old:
                group["params"][j] = new
    state = optimizer.state.pop(old, None)
    if state:
        optimizer.state[new] = {k: (gather(t).contiguous() if torch.is_tensor(t) and t.shape == old.shape else t)
                                for k, t in state.items()}


def _linear_layers(model: nn.Module) -> dict[str, tuple[nn.Module, str, nn.Module]]:
    """``{"<layer>.weight": (parent, child name, module)}`` for every nn.Linear / SparseLinear child."""
    out = {}
    for name, module in model.named_modules():
        for child_name, child in module.named_children():
            if isinstance(child, (nn.Linear, SparseLinear)):
                full = f"{name}.{child_name}" if name else child_name
                out[full + ".weight"] = (module, child_name, child)
    return out


Measure = Callable[[int, int, int, float, str, torch.device], dict]


def _auto_choice(layer: nn.Linear, density: float, batch_size: int, optimizer: str,
                 measure: Measure) -> tuple[str, str, dict]:
    device = layer.weight.device
    t = measure(layer.out_features, layer.in_features, batch_size, density, optimizer, device)
    csr = t["csr_ms"] < t["masked_ms"]
    sign = "<" if csr else ">="
    reason = (f"measured step: csr {t['csr_ms']:.3g} ms {sign} masked {t['masked_ms']:.3g} ms "
              f"({layer.out_features}x{layer.in_features}, batch {batch_size}, density ~{t['density']:.3g}, "
              f"{optimizer})")
    return ("csr" if csr else "masked"), reason, {k: t[k] for k in ("masked_ms", "csr_ms")}


def plan_execution(model: nn.Module, masks: Mapping[str, torch.Tensor], mode: str, *, batch_size: int,
                   optimizer: str = "sgd", measure: Measure | None = None,
                   fused: bool = False, defer_dense: bool = False) -> list[dict]:
    """The per-layer choices `prepare_execution` would make (nothing is converted).

    `fused`: the run trains with the fused batch-1 engine, which runs SparseLinear in O(nnz) but
    no mask hooks, so every convertible layer takes CSR. `defer_dense`: the masks will shrink
    during training (a gradual schedule; see `Execution.replan`), so a layer at density 1 stays
    masked in every mode until it is pruned. `measure` replaces the timing (tests).
    """
    check_execution(mode)
    if measure is None:
        from .execution_timing import measured_step_ms as measure
    layers = _linear_layers(model)
    choices = []
    for key, m in masks.items():
        entry = layers.get(key)
        density = float(m.float().mean()) if m.numel() else 1.0
        row = {"layer": key, "shape": list(m.shape), "density": round(density, 6)}
        if entry is None:
            kind = "a bias" if key.endswith("bias") else "not an nn.Linear weight"
            choices.append({**row, "choice": "masked", "reason": f"{kind}: no CSR form"})
            continue
        layer = entry[2]
        if isinstance(layer, SparseLinear):
            choices.append({**row, "choice": "csr", "reason": "already a SparseLinear"})
        elif defer_dense and density >= 1.0:
            choices.append({**row, "choice": "masked", "reason": "density 1: CSR once pruning starts"})
        elif mode == "masked":
            choices.append({**row, "choice": "masked", "reason": "--execution masked"})
        elif mode == "csr":
            choices.append({**row, "choice": "csr", "reason": "--execution csr"})
        elif fused:
            choices.append({**row, "choice": "csr", "reason": "fused batch-1 engine: O(nnz) on CSR, runs no mask hooks"})
        elif density >= 1.0:
            choices.append({**row, "choice": "masked", "reason": "density 1: nothing pruned"})
        else:
            choice, reason, times = _auto_choice(layer, density, batch_size, optimizer, measure)
            choices.append({**row, "choice": choice, "reason": reason, **times})
    return choices


def prepare_execution(model: nn.Module, masks: Mapping[str, torch.Tensor], mode: str, *, batch_size: int,
                      optimizer: str = "sgd", choices: Sequence[dict] | None = None,
                      measure: Measure | None = None, fused: bool = False,
                      defer_dense: bool = False) -> Execution:
    """Make `model` (whose pruned weights are already zero) train under `mode`, in place.

    `choices` (from an earlier `Execution.choices`, e.g. a checkpoint) replays recorded choices
    instead of deciding again, so a resumed run keeps the layout its optimizer state was saved in.
    """
    if choices is None:
        choices = plan_execution(model, masks, mode, batch_size=batch_size, optimizer=optimizer,
                                 measure=measure, fused=fused, defer_dense=defer_dense)
    choices = [dict(c) for c in choices]
    layers = _linear_layers(model)
    execution = Execution(model, mode, choices, plan_kwargs={"batch_size": batch_size, "optimizer": optimizer,
                                                             "measure": measure, "fused": fused})
    keep = {}
    for c in choices:
        key = c["layer"]
        entry = layers.get(key)
        if c["choice"] == "csr" and entry is not None and isinstance(entry[2], nn.Linear):
            parent, child_name, linear = entry
            sparse = SparseLinear.from_linear(linear, masks[key].to(linear.weight.device))
            setattr(parent, child_name, sparse)
            execution._swapped.append((parent, child_name, linear, sparse))
        elif c["choice"] == "masked" and key in masks:
            keep[key] = masks[key]
    if keep:  # (a MaskHook with nothing to hold would still make the fused engine refuse the run)
        execution.hooks.append(MaskHook(keep))
    return execution


def summarize_choices(choices: Sequence[dict]) -> str:
    """``"csr 2 / masked 1"``: a one-glance count for logs."""
    n_csr = sum(c["choice"] == "csr" for c in choices)
    return f"csr {n_csr} / masked {len(choices) - n_csr}"


__all__ = ["EXECUTIONS", "EXECUTION_HELP", "Execution", "check_execution", "hand_over", "plan_execution",
           "prepare_execution", "summarize_choices"]
