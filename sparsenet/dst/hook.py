"""`DSTHook`: rewire a model's sparse layers every ΔT steps of the one training loop.

At an update step t (t > 0, t ≡ 0 mod ΔT, t < end_step), for every rewired layer:

    1. drop   ``choose_drop(live weights, ζ_t, rule)``                       (sparsenet.dst.drop)
    2. grow   as many connections (or, for grow-prune, as many as the layer's
              target size needs) at the inactive positions with the best growth score  (growth)
    3. apply  through the layer's view (`sparsenet.masks.layers`): `rewire_` (drop, then grow; one
              CSR rebuild for a SparseLinear),
              with the optimizer, so survivors keep their momentum / Adam moments and new
              connections start at zero state; new weights start at 0 (``init="zero"``) or
              uniform in ±1/sqrt(fan-in) (``init="random"``, fan-in = live weights per row);
              the default is the method's (`DSTMethod.init`).

The growth scores need the update batch's inputs X and output gradients dY (gradient) or those of
a window of batches before it (momentum): forward hooks on the rewired layers keep them only for
those steps. Random choices draw from a generator seeded by (seed, step, layer), so a run resumed
from a checkpoint makes the same choices, and masked and CSR execution of the same seed make the
same ones. Everything is O(nnz) per layer, plus the growth product (see `sparsenet.dst.growth`).

`history` has one record per update: step, ζ_t, seconds, and per layer live / dropped / grown.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from ..allocation.counts import distribute
from ..errors import ConfigError
from ..masks.layers import layer_views
from ..train.hooks import Hook, StepContext
from .drop import DROP_RULES, choose_drop
from .growth import random_inactive, topk_inactive_dense, topk_inactive_product
from .methods import DST_METHODS, DSTMethod
from .rates import DECAYS, check_rates, drop_fraction

INITS = ("zero", "random")


@dataclass(frozen=True)
class Trajectory:
    """Grow-then-prune: every layer's size relative to its final size r(t): r0 at the start, up
    linearly to r_peak at `grow_end`, down cubically to 1 at `prune_end` (Zhu & Gupta's form,
    r = 1 + (r_peak - 1)(1 - (t - grow_end)/(prune_end - grow_end))³), then 1 (rewiring ζ_t)."""

    start: float  # r0 = start density / final density
    peak: float  # r_peak = peak density / final density
    grow_end: int
    prune_end: int

    def ratio(self, step: int) -> float:
        if step < self.grow_end:
            return self.start + (self.peak - self.start) * step / self.grow_end
        if step < self.prune_end:
            f = (step - self.grow_end) / (self.prune_end - self.grow_end)
            return 1.0 + (self.peak - 1.0) * (1.0 - f) ** 3
        return 1.0


def check_trajectory(*, start_density: float, peak_density: float, density: float, grow_end: int,
                     prune_end: int, end_step: int) -> None:
    if not 0 < start_density <= peak_density <= 1:
        raise ConfigError(f"grow-prune needs 0 < start density ({start_density}) <= peak density ({peak_density}) <= 1")
    if peak_density < density:
        raise ConfigError(f"peak density {peak_density} is below the final density {density}: the schedule "
                          f"densifies to the peak, then prunes to the final density")
    if not 0 < grow_end < prune_end <= end_step:
        raise ConfigError(f"grow-prune needs 0 < grow_end ({grow_end}) < prune_end ({prune_end}) <= end_step ({end_step})")


def _generator(seed: int, step: int, layer: int) -> torch.Generator:
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(step)) * 1009 + int(layer))


class DSTHook(Hook):
    """See the module docstring. `layers`: the mask names of the layers to rewire (default: every
    prunable layer that is not dense). `final_nnz` (grow-prune): each layer's final size."""

    def __init__(self, model: nn.Module, method: str | DSTMethod, *, zeta: float, delta_t: int, end_step: int,
                 steps: int, seed: int = 0, drop: str | None = None, decay: str | None = None,
                 init: str | None = None, momentum: float = 0.9, window: int = 1, layers=None,
                 trajectory: Trajectory | None = None, final_nnz: Mapping[str, int] | None = None):
        self.method = DST_METHODS.get(method) if isinstance(method, str) else method
        m = self.method
        self.drop_rule = drop or (m.drop if m.drop != "none" else "magnitude")
        self.decay = decay or m.decay
        init = init or m.init
        if self.drop_rule not in DROP_RULES:
            raise ConfigError(f"unknown drop rule {self.drop_rule!r}; valid: {', '.join(DROP_RULES)}")
        if self.decay not in DECAYS:
            raise ConfigError(f"unknown drop-fraction decay {self.decay!r}; valid: {', '.join(DECAYS)}")
        if init not in INITS:
            raise ConfigError(f"unknown init {init!r} for new connections; valid: {', '.join(INITS)}")
        check_rates(zeta=zeta, delta_t=delta_t, end_step=end_step, steps=steps)
        if m.growth == "momentum" and not (0 <= momentum < 1 and 1 <= window <= delta_t):
            raise ConfigError(f"snfs needs momentum in [0, 1) and 1 <= window <= delta_t, got {momentum}, {window}")
        if m.trajectory and (trajectory is None or final_nnz is None):
            raise ConfigError(f"method {m.name!r} needs a trajectory and each layer's final size")
        self.zeta, self.delta_t, self.end_step, self.seed = float(zeta), int(delta_t), int(end_step), int(seed)
        self.init, self.momentum = init, float(momentum)
        self.window = int(window) if m.growth == "momentum" else 1
        self.trajectory, self.final_nnz = trajectory, dict(final_nnz or {})
        views = layer_views(model)
        if layers is None:
            layers = [n for n, v in views.items() if v.nnz() < v.shape.numel()]
        missing = [n for n in layers if n not in views]
        if missing:
            raise ConfigError(f"DST layers {missing} name no prunable layer; layers: {', '.join(views)}")
        self.views = {n: views[n] for n in layers}
        self.history: list[dict] = []
        self.update_seconds = 0.0
        self._armed = False
        self._captured: dict[str, list] = {n: [] for n in self.views}
        self._handles = [v.module.register_forward_hook(self._capture_fn(n)) for n, v in self.views.items()] \
            if m.growth in ("gradient", "momentum") else []

    # ---- capturing the batches the growth score needs ---------------------------------------
    def _capture_fn(self, name: str):
        def fn(module, inputs, output):
            if not self._armed or not torch.is_grad_enabled() or not module.training:
                return
            x = inputs[0].detach()
            slot = [x, None]
            self._captured[name].append(slot)
            if output.requires_grad:
                output.register_hook(lambda g: slot.__setitem__(1, g.detach()))
        return fn

    def _next_update(self, step: int) -> int:
        return (step // self.delta_t + 1) * self.delta_t

    def _arm(self, done: int) -> None:
        """Arm the capture for the forward of step ``done + 1`` when it lies in the next update's window."""
        if not self._handles:
            return
        nxt = done + 1
        u = -(-nxt // self.delta_t) * self.delta_t
        self._armed = u < self.end_step and u - nxt < self.window

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    # ---- hook protocol -----------------------------------------------------------------------
    def on_start(self, c: StepContext) -> None:
        for n in self._captured:
            self._captured[n] = []
        self._arm(c.step)

    def after_step(self, c: StepContext) -> None:
        s = c.step
        if s > 0 and s % self.delta_t == 0 and s < self.end_step and self.method.rewires:
            self.update(c.optimizer, s)
        self._arm(s)

    def on_end(self, c: StepContext) -> None:
        self._armed = False

    # ---- the update ----------------------------------------------------------------------------
    def _target(self, name: str, step: int, nnz: int) -> int:
        if not self.method.trajectory:
            return nnz
        size = self.views[name].shape.numel()
        return min(size, max(1, round(self.final_nnz[name] * self.trajectory.ratio(step))))

    def _growth_batches(self, name: str, linear: bool):
        """[(A_j, X_j)] with ∂L/∂W ≈ Σ_j A_jᵀ X_j from the captured batches (weighted by β^age for
        snfs); linear layers flatten leading dimensions to (rows, features)."""
        got = [(x, g) for x, g in self._captured[name] if g is not None]
        out = []
        for j, (x, g) in enumerate(got):
            w = self.momentum ** (len(got) - 1 - j) if self.method.growth == "momentum" else 1.0
            if linear:
                x, g = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
            out.append((g * w, x))
        return out

    def _grow_keys(self, li: int, name: str, view, live_after: torch.Tensor, n: int, step: int) -> torch.Tensor:
        size = view.shape.numel()
        if n <= 0:
            return torch.zeros(0, dtype=torch.int64)
        if self.method.growth == "random":
            return random_inactive(size, live_after, n, _generator(self.seed, step, li))
        linear = len(view.shape) == 2
        batches = self._growth_batches(name, linear)
        if not batches:
            raise ConfigError(f"DST layer {name!r}: no batch was captured for the {self.method.growth} growth "
                              f"score at step {step}; the layer must run forward/backward in training mode")
        if linear:
            return topk_inactive_product(torch.cat([a for a, _ in batches]), torch.cat([x for _, x in batches]),
                                         live_after, n)
        mod = view.module  # a convolution, trained masked: its dense weight gradient
        g = sum(torch.nn.grad.conv2d_weight(x, view.shape, a, mod.stride, mod.padding, mod.dilation, mod.groups)
                for a, x in batches)
        return topk_inactive_dense(g, live_after, n)

    def _new_values(self, li: int, view, nnz: int, k: int, step: int) -> torch.Tensor | None:
        if self.init == "zero" or k == 0:
            return None
        fan_in = max(1.0, nnz / view.shape[0])
        bound = 1.0 / math.sqrt(fan_in)
        g = _generator(self.seed + 7919, step, li)
        return (torch.rand(k, generator=g) * 2 - 1) * bound

    @torch.no_grad()
    def update(self, optimizer: torch.optim.Optimizer | None, step: int) -> dict:
        """One pattern update of every rewired layer at `step` (see the module docstring)."""
        t0 = time.perf_counter()
        zeta = drop_fraction(step, zeta=self.zeta, end_step=self.end_step, decay=self.decay)
        plan = {}
        for name, view in self.views.items():
            vals = view.live_values()
            nnz = vals.numel()
            target = self._target(name, step, nnz)
            if self.method.trajectory:
                rewire = round(zeta * min(nnz, target))
                drop = choose_drop(vals, zeta, "magnitude", count=max(0, nnz - target) + rewire)
            else:
                drop = choose_drop(vals, zeta, self.drop_rule)
            kept = nnz - int(drop.sum())
            plan[name] = {"drop": drop, "nnz": nnz, "grow": max(0, target - kept) if self.method.trajectory
                          else nnz - kept, "kept": kept}
        if self.method.redistribute:
            self._redistribute(plan, optimizer)
        record = {"step": step, "zeta": zeta, "layers": {}}
        for li, (name, view) in enumerate(self.views.items()):
            p = plan[name]
            live_after = view.live_keys()[~p["drop"].to(view.live_keys().device)].cpu()
            keys = self._grow_keys(li, name, view, live_after, p["grow"], step)
            view.rewire_(p["drop"], keys, self._new_values(li, view, p["kept"], keys.numel(), step),
                         optimizer=optimizer)
            live = view.nnz()
            record["layers"][name] = {"live": live, "dropped": int(p["drop"].sum()), "grown": int(keys.numel())}
        for n in self._captured:
            self._captured[n] = []
        record["seconds"] = time.perf_counter() - t0
        self.update_seconds += record["seconds"]
        self.history.append(record)
        return record

    def _redistribute(self, plan: dict, optimizer) -> None:
        """SNFS: the total regrowth goes to the layers in proportion to their mean |momentum|."""
        total = sum(p["nnz"] - p["kept"] for p in plan.values())
        weights, hi = {}, {}
        for name, view in self.views.items():
            mom = view.live_state(optimizer, "momentum_buffer")
            if mom is None:
                mom = view.live_state(optimizer, "exp_avg")
            keep = ~plan[name]["drop"].to(mom.device) if mom is not None else None
            weights[name] = float(mom[keep].abs().mean()) if mom is not None and bool(keep.any()) else 0.0
            hi[name] = view.shape.numel() - plan[name]["kept"]
        if sum(weights.values()) <= 0:
            return
        counts = distribute(total, weights, {n: 0 for n in plan}, hi)
        for n, k in counts.items():
            plan[n]["grow"] = int(k)

    # ---- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """History and update time. Captured batches are not saved: take checkpoints between an
        update and the next window (at multiples of ΔT, as `sparsenet dst` does); elsewhere this
        refuses, since a resumed run would miss part of SNFS's window."""
        if any(self._captured.values()):
            raise ConfigError(f"DST checkpoint inside a growth window (captured batches pending): checkpoint "
                              f"at multiples of delta_t={self.delta_t}")
        return {"history": self.history, "update_seconds": self.update_seconds}

    def load_state_dict(self, state: dict) -> None:
        self.history = list(state.get("history", []))
        self.update_seconds = float(state.get("update_seconds", 0.0))


__all__ = ["DSTHook", "INITS", "Trajectory", "check_trajectory"]
