"""The layers of a `sparsenet dst` run: per-layer densities, the dense ones, the grow-prune
trajectory, the seeded model of a trial, and what its weights occupy.

Densities come from `sparsenet.dst.layer_densities` (ε per layer, or an overall density split by
an allocation). A layer whose density would reach 100% (e.g. a 10-unit output layer at ε = 20) is
an ordinary dense ``nn.Linear``, never rewired, and reported as such. The model of a trial is built
in O(nnz) (`SparseLinear.random`): seed s gives the same Erdős–Rényi pattern and values to every
method (static, SET, RigL, SNFS start from one network), and the same dense layers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ...dst import Trajectory, check_trajectory, layer_densities
from ...errors import ConfigError
from ...models import MLP
from ...models.spec import parse_layer_spec
from ...nn import SparseLinear
from .config import DstConfig


@dataclass(frozen=True)
class LayerPlan:
    name: str  # the layer's mask name, "layers.<i>.weight"
    n_in: int
    n_out: int
    density: float  # the (final) density, capped at 1
    wanted: float | None  # the uncapped density ε asks for (None with --density: the allocation capped it)

    @property
    def dense(self) -> bool:
        return self.density >= 1.0

    @property
    def size(self) -> int:
        return self.n_in * self.n_out

    def as_dict(self) -> dict:
        return {"name": self.name, "shape": [self.n_out, self.n_in], "density": self.density,
                "wanted_density": self.wanted, "dense": self.dense}


@dataclass(frozen=True)
class RunPlan:
    sizes: list[int]
    layers: list[LayerPlan]
    trajectory: Trajectory | None  # grow-prune's, when it runs

    @property
    def sparse(self) -> list[LayerPlan]:
        return [lp for lp in self.layers if not lp.dense]

    @property
    def final_density(self) -> float:
        """Overall density of the sparse (rewired) layers."""
        return sum(lp.density * lp.size for lp in self.sparse) / sum(lp.size for lp in self.sparse)

    def start_densities(self, method: str) -> list[float]:
        """Each layer's density at step 0 (grow-prune may start sparser or denser than its final one)."""
        r = self.trajectory.start if method == "grow-prune" and self.trajectory is not None else 1.0
        return [1.0 if lp.dense else min(1.0, lp.density * r) for lp in self.layers]


def plan_run(cfg: DstConfig, in_features: int, num_classes: int) -> RunPlan:
    """Every check that needs the layer sizes, before any work (one-line ConfigErrors)."""
    sizes = parse_layer_spec(f"{in_features}-{cfg.hidden}-{num_classes}")
    shapes = {f"layers.{i}.weight": (n_out, n_in) for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))}
    rule = cfg.sparsity_rule()
    dens = layer_densities(shapes, **rule)
    eps = rule.get("epsilon")
    layers = [LayerPlan(n, s[1], s[0], float(dens[n]),
                        eps * (s[0] + s[1]) / (s[0] * s[1]) if eps is not None else None)
              for n, s in shapes.items()]
    if all(lp.dense for lp in layers):
        what = f"--epsilon {eps:g}" if eps is not None else f"--density {cfg.density:g}"
        raise ConfigError(f"{what} makes every layer of {'-'.join(map(str, sizes))} dense: nothing to train "
                          "sparsely; give a smaller value")
    plan = RunPlan(sizes, layers, None)
    if "grow-prune" not in cfg.methods:
        return plan
    final = plan.final_density
    start = cfg.start_density if cfg.start_density is not None else final
    peak = cfg.peak_density if cfg.peak_density is not None else min(1.0, 2 * final)
    if peak < final:
        raise ConfigError(f"--peak-density {peak:g} is below the final density {final:.4g} of the sparse layers; "
                          f"the schedule densifies to the peak, then prunes to the final density: give "
                          f"--peak-density >= {final:.4g}")
    grow, prune, end = cfg.grow_steps()
    check_trajectory(start_density=start, peak_density=peak, density=final, grow_end=grow, prune_end=prune,
                     end_step=end)
    return RunPlan(sizes, layers, Trajectory(start=start / final, peak=peak / final, grow_end=grow, prune_end=prune))


def build_model(plan: RunPlan, densities: list[float], activation: str, seed: int) -> MLP:
    """The MLP of `plan` with layer i at densities[i]: SparseLinear.random (O(nnz)) below 1, nn.Linear
    (PyTorch's default init from the global generator, seeded here) at 1. On CPU."""
    with torch.device("meta"):
        model = MLP(plan.sizes, activation)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    for i, (lp, d) in enumerate(zip(plan.layers, densities)):
        if lp.dense:
            model.layers[i] = nn.Linear(lp.n_in, lp.n_out)
        else:
            model.layers[i] = SparseLinear.random(lp.n_in, lp.n_out, d, generator=g)
    return model


def to_masked(model: MLP) -> dict[str, torch.Tensor]:
    """Replace every SparseLinear by the same dense nn.Linear; returns the masks to enforce."""
    masks = {}
    for i, layer in enumerate(model.layers):
        if isinstance(layer, SparseLinear):
            masks[f"layers.{i}.weight"] = layer.mask()
            model.layers[i] = layer.to_linear()
    return masks


def _nbytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def weight_memory(model: MLP, masks: dict[str, torch.Tensor] | None = None) -> dict:
    """Bytes per layer: ``dense`` = what a dense float layer of that shape holds (weight + bias);
    ``stored`` = what the layer holds now: a SparseLinear's values and index arrays (CSR and its
    transpose) and bias; a dense layer's weight and bias, plus its enforced mask (masked execution)."""
    out = {}
    for i, layer in enumerate(model.layers):
        name = f"layers.{i}.weight"
        p = list(layer.parameters())
        elem = p[0].element_size()
        bias = layer.bias.numel() if layer.bias is not None else 0
        stored = _nbytes(p) + _nbytes(layer.buffers())
        if masks and name in masks:
            stored += _nbytes([masks[name]])
        out[name] = {"dense": (layer.out_features * layer.in_features + bias) * elem, "stored": stored}
    return out


def stored_state(model: MLP, masked: bool, enforced: dict[str, torch.Tensor] | None) -> dict:
    """What a checkpoint holds to rebuild the model exactly: the CSR patterns and values (csr) or the
    enforced masks and the dense state dict (masked)."""
    from ...nn.pattern_state import sparse_state

    if masked:
        return {"masks": {n: m.clone() for n, m in (enforced or {}).items()},
                "model": {k: v.detach().clone() for k, v in model.state_dict().items()}}
    dense = {f"layers.{i}.{k}": v.detach().clone() for i, layer in enumerate(model.layers)
             if not isinstance(layer, SparseLinear) for k, v in layer.state_dict().items()}
    return {"sparse": sparse_state(model), "dense": dense}


@torch.no_grad()
def load_stored_state_(model: MLP, state: dict) -> None:
    """Put `stored_state(...)` of a csr model back (a masked model loads ``state["model"]`` itself,
    after its masks are enforced)."""
    from ...nn.pattern_state import load_sparse_state_

    load_sparse_state_(model, state["sparse"])
    params = dict(model.state_dict(keep_vars=True))
    for k, v in state["dense"].items():
        params[k].copy_(v)


def log_edges(bins: int) -> list[float]:
    """Log-spaced |w| bin edges from 1e-6 to 10 (values outside fall in the end bins)."""
    return [10 ** (-6 + 7 * i / bins) for i in range(bins + 1)]


def erdos_renyi_note(lp: LayerPlan) -> str:
    want = f"{100 * lp.wanted:.4g}%" if lp.wanted is not None and math.isfinite(lp.wanted) else "100% or more"
    return (f"{lp.name} ({lp.n_out}×{lp.n_in}) would have density {want}: it is dense (nn.Linear) and "
            "never rewired")


__all__ = ["LayerPlan", "RunPlan", "build_model", "erdos_renyi_note", "load_stored_state_", "log_edges",
           "plan_run", "stored_state", "to_masked", "weight_memory"]
