"""Parts (c) and (d) of `sparsenet reproduce second-order`: the seed's slow net, and Newton in the
pruned subspace.

(c) The seed's "slow net" (seed 001): a fixed random projection ``in → width`` (not trained),
then ``width → width → classes`` with leaky ReLU (slope 0.5) on the hidden layer, a linear output,
squared error against one-hot targets, ``L = mean_batch ½‖out − onehot‖²``, minibatches of 50.
Every method sees the same minibatch sequence; the training loss is measured on a fixed subset of
the training set every `eval_every` iterations; wall-clock counts optimizer steps only.

(d) Seeds 000 + 001: an MLP ``in-hidden-classes`` (tanh) is trained densely with SGD (burn-in),
magnitude-pruned (global top-|w|) to `live_weights` weights (biases stay), and then trained on
from that same pruned net by SGD, Adam (masks re-applied after every step) and exact saddle-free
Newton over the live entries only (``H_live = P H Pᵀ``, see `sparsenet.optim.subspace`).
Everything runs in float64 (the exact Hessian's eigendecomposition needs it; the first-order
methods get the same precision for a fair comparison).
"""
from __future__ import annotations

import copy
import math
import sys
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..masks import apply_masks, magnitude_scores, select_global
from ..models import MLP
from ..optim import (HessianFreeNewton, KrylovSaddleFreeNewton, NonFiniteError, SaddleFreeNewton, layer_groups,
                     live_count, live_param_groups)


class SlowNet(nn.Module):
    """Fixed random projection (a buffer, N(0, 1/in)), then width-width-classes with leaky ReLU."""

    def __init__(self, in_features: int, width: int, classes: int, slope: float = 0.5, generator=None):
        super().__init__()
        self.register_buffer("projection", torch.randn(width, in_features, generator=generator) / math.sqrt(in_features))
        self.hidden = nn.Linear(width, width)
        self.out = nn.Linear(width, classes)
        self.slope = slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x @ self.projection.T  # (B, in) @ (in, width) -> (B, width)
        return self.out(F.leaky_relu(self.hidden(z), self.slope))


def squared_error(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """mean over the batch of ½‖out − onehot(y)‖²."""
    return 0.5 * ((out - F.one_hot(y, out.shape[1]).to(out.dtype)) ** 2).sum(1).mean()


@dataclass
class NetData:
    x: torch.Tensor
    y: torch.Tensor
    x_eval: torch.Tensor  # fixed training subset on which "training loss" is measured
    y_eval: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: int
    order: torch.Tensor  # the minibatch order, shared by every method

    def batch(self, it: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(self.order)
        start = (it * size) % n
        idx = self.order[start:start + size]
        if len(idx) < size:  # wrap around the end of an epoch
            idx = torch.cat([idx, self.order[: size - len(idx)]])
        return self.x[idx], self.y[idx]


def make_data(ds, eval_samples: int, test_samples: int, seed: int, device: str = "cpu") -> NetData:
    g = torch.Generator().manual_seed(seed)  # CPU generator: the same subsets and order on every device
    x = ds.x_train.reshape(len(ds.x_train), -1).to(device=device, dtype=torch.float64)
    xt = ds.x_test.reshape(len(ds.x_test), -1).to(device=device, dtype=torch.float64)
    y, yt = ds.y_train.to(device), ds.y_test.to(device)
    perm = torch.randperm(len(x), generator=g).to(device)
    ev = perm[: min(eval_samples, len(x))]
    return NetData(x, y, x[ev], y[ev], xt[:test_samples], yt[:test_samples],
                   ds.num_classes, torch.randperm(len(x), generator=g).to(device))


@torch.no_grad()
def _evaluate(model: nn.Module, data: NetData) -> dict:
    out = model(data.x_eval)
    test = model(data.x_test)
    return {"train_loss": float(squared_error(out, data.y_eval)),
            "train_accuracy": float((out.argmax(1) == data.y_eval).double().mean()),
            "test_accuracy": float((test.argmax(1) == data.y_test).double().mean())}


def train_curve(name: str, model: nn.Module, make_opt: Callable, data: NetData, iterations: int, batch: int,
                eval_every: int, masks: dict | None = None, label: str = "") -> dict:
    """Train with one optimizer; evaluate at 0, every `eval_every` and the last iteration."""
    opt = make_opt(model)
    second_order = not isinstance(opt, (torch.optim.SGD, torch.optim.Adam))
    curve = {k: [] for k in ("iteration", "seconds", "train_loss", "train_accuracy", "test_accuracy")}
    seconds, diverged = 0.0, None

    def record(it):
        ev = _evaluate(model, data)
        curve["iteration"].append(it)
        curve["seconds"].append(seconds)
        for k, v in ev.items():
            curve[k].append(v)

    record(0)
    for it in range(1, iterations + 1):
        xb, yb = data.batch(it - 1, batch)
        closure = lambda: squared_error(model(xb), yb)  # noqa: E731
        t0 = time.perf_counter()
        try:
            if second_order:
                opt.step(closure)
            else:
                opt.zero_grad()
                closure().backward()
                opt.step()
                if masks is not None:
                    apply_masks(model, masks)
        except NonFiniteError as e:
            diverged = f"iteration {it}: {e}"
            break
        seconds += time.perf_counter() - t0
        if it % eval_every == 0 or it == iterations:
            record(it)
            if not math.isfinite(curve["train_loss"][-1]):
                diverged = f"iteration {it}: training loss {curve['train_loss'][-1]}"
                break
    print(f"[second-order] {label}{name}: loss {curve['train_loss'][0]:.4f} -> {curve['train_loss'][-1]:.4f} "
          f"in {curve['iteration'][-1]} iterations, {seconds:.1f}s", file=sys.stderr, flush=True)
    return {"method": name, **curve, "diverged": diverged, "final_train_loss": curve["train_loss"][-1],
            "final_test_accuracy": curve["test_accuracy"][-1], "train_seconds": seconds,
            "seconds_per_iteration": seconds / max(1, curve["iteration"][-1])}


def slow_net_part(cfg, ds) -> dict:
    """Part (c): SGD, Adam, exact SFN (per-layer blocks), Krylov SFN and Hessian-free on the slow net."""
    data = make_data(ds, cfg.eval_samples, cfg.test_samples, cfg.seed, cfg.device)
    torch.manual_seed(cfg.seed)
    start = SlowNet(data.x.shape[1], cfg.width, data.classes, cfg.slope,
                    torch.Generator().manual_seed(cfg.seed)).double().to(cfg.device)
    params = lambda m: [p for p in m.parameters()]  # noqa: E731
    methods = {
        "sgd": lambda m: torch.optim.SGD(m.parameters(), lr=cfg.sgd_lr),
        "adam": lambda m: torch.optim.Adam(m.parameters(), lr=cfg.adam_lr),
        "sfn": lambda m: SaddleFreeNewton(layer_groups(m), lr=cfg.sfn_lr, damping=cfg.sfn_damping, hessian="block"),
        "krylov-sfn": lambda m: KrylovSaddleFreeNewton(params(m), k=cfg.krylov_k, lr=cfg.sfn_lr, damping=cfg.sfn_damping),
        "hessian-free": lambda m: HessianFreeNewton(params(m), damping=cfg.hf_damping, cg_iters=cfg.hf_cg_iters),
    }
    runs = [train_curve(name, copy.deepcopy(start), make, data, cfg.iterations, cfg.batch_size, cfg.eval_every,
                        label="slow net ") for name, make in methods.items()]
    blocks = [sum(p.numel() for p in g["params"]) for g in layer_groups(start)]
    return {"dataset": ds.name, "shape": f"{data.x.shape[1]}->{cfg.width} (fixed) -> {cfg.width}-{cfg.width}-{data.classes}",
            "parameters": sum(blocks), "hessian_blocks": blocks, "batch_size": cfg.batch_size,
            "iterations": cfg.iterations, "eval_samples": len(data.y_eval), "runs": runs,
            "settings": {"sgd_lr": cfg.sgd_lr, "adam_lr": cfg.adam_lr, "sfn_lr": cfg.sfn_lr, "sfn_damping": cfg.sfn_damping,
                         "krylov_k": cfg.krylov_k, "hf_damping": cfg.hf_damping, "hf_cg_iters": cfg.hf_cg_iters}}


def pruned_part(cfg, ds) -> dict:
    """Part (d): burn-in, magnitude pruning, then SGD / Adam / exact SFN over the live weights."""
    data = make_data(ds, cfg.eval_samples, cfg.test_samples, cfg.seed, cfg.device)
    torch.manual_seed(cfg.seed)
    model = MLP([data.x.shape[1], cfg.pruned_hidden, data.classes], activation="tanh").double().to(cfg.device)
    burn = train_curve("burn-in sgd", model, lambda m: torch.optim.SGD(m.parameters(), lr=cfg.pruned_sgd_lr), data,
                       cfg.burnin_steps, cfg.batch_size, max(1, cfg.burnin_steps), label="pruned ")
    dense_total = sum(p.numel() for p in model.parameters())
    masks = select_global(magnitude_scores(model), keep=cfg.live_weights)
    apply_masks(model, masks)
    groups = live_param_groups(model, masks)
    system = live_count(groups)
    methods = {
        "sgd": lambda m: torch.optim.SGD(m.parameters(), lr=cfg.pruned_sgd_lr),
        "adam": lambda m: torch.optim.Adam(m.parameters(), lr=cfg.pruned_adam_lr),
        "sfn": lambda m: SaddleFreeNewton(live_param_groups(m, masks), lr=cfg.pruned_sfn_lr, damping=cfg.sfn_damping,
                                          max_params=max(system, 12_000)),
    }
    # The pruned start is shared: every method continues from a copy of the same net.
    runs = [train_curve(name, copy.deepcopy(model), make, data, cfg.pruned_iterations, cfg.batch_size,
                        cfg.eval_every, masks=masks, label="pruned ") for name, make in methods.items()]
    return {"dataset": ds.name, "model": f"mlp {data.x.shape[1]}-{cfg.pruned_hidden}-{data.classes} tanh",
            "dense_parameters": dense_total, "live_weights": cfg.live_weights, "newton_system_size": system,
            "burnin": {"steps": cfg.burnin_steps, "final_train_loss": burn["final_train_loss"],
                       "final_test_accuracy": burn["final_test_accuracy"], "seconds": burn["train_seconds"]},
            "iterations": cfg.pruned_iterations, "runs": runs,
            "settings": {"sgd_lr": cfg.pruned_sgd_lr, "adam_lr": cfg.pruned_adam_lr, "sfn_lr": cfg.pruned_sfn_lr,
                         "sfn_damping": cfg.sfn_damping}}


__all__ = ["SlowNet", "squared_error", "slow_net_part", "pruned_part", "train_curve", "make_data"]
