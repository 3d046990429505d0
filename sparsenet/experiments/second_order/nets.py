"""Parts (c) and (d) of `sparsenet reproduce second-order`: the seed's slow net, and Newton in the
pruned subspace.

(c) The seed's "slow net" (seed 001): a fixed random projection ``in → width`` (not trained),
then ``width → width → classes`` with leaky ReLU (slope 0.5) on the hidden layer, a linear output,
squared error against one-hot targets, ``L = mean_batch ½‖out − onehot‖²``, minibatches of 50.
Every method trains through the one loop (`sparsenet.train.train_phase` with a `ClosureEngine`)
and sees the same minibatch sequence (the loop's seeded `SampleStream`); the training loss is
measured on a fixed subset of the training set at 0, every `eval_every` iterations and at the
end; wall-clock counts the loop's training time (evaluation excluded).

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
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import DivergenceError
from ...masks import apply_masks, magnitude_scores, select_global
from ...models import MLP
from ...optim.base import SecondOrderOptimizer
from ...optim import HessianFreeNewton, KrylovSaddleFreeNewton, SaddleFreeNewton, layer_groups, live_count, live_param_groups
from ...train import (ClosureEngine, Hook, LoopSettings, MaskHook, PhaseState, RunContext, SampleStream, StepContext,
                     make_optimizer, train_phase)


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
    seed: int  # of the minibatch stream, shared by every method


def make_data(ds, eval_samples: int, test_samples: int, seed: int, device: str = "cpu") -> NetData:
    g = torch.Generator().manual_seed(seed)  # CPU generator: the same subsets on every device
    x = ds.x_train.reshape(len(ds.x_train), -1).to(device=device, dtype=torch.float64)
    xt = ds.x_test.reshape(len(ds.x_test), -1).to(device=device, dtype=torch.float64)
    y, yt = ds.y_train.to(device), ds.y_test.to(device)
    ev = torch.randperm(len(x), generator=g)[: min(eval_samples, len(x))].to(device)
    return NetData(x, y, x[ev], y[ev], xt[:test_samples], yt[:test_samples], ds.num_classes, seed)


@torch.no_grad()
def _evaluate(model: nn.Module, data: NetData) -> dict:
    """Squared error and accuracy on the fixed training subset, accuracy on the test samples."""
    out = model(data.x_eval)
    test = model(data.x_test)
    return {"loss": float(squared_error(out, data.y_eval)),
            "accuracy": float((out.argmax(1) == data.y_eval).double().mean()),
            "test_accuracy": float((test.argmax(1) == data.y_test).double().mean())}


def _batch_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return squared_error(model(x), y)


class _Curve(Hook):
    """The training curve of one method: evaluations at the phase's start (logged here), at every
    loop evaluation (logged by the loop) and at its end (logged here), with the training seconds."""

    SPLIT = "train-subset"

    def __init__(self, data: NetData, batch: int):
        self.data, self.batch = data, batch
        self.curve = {k: [] for k in ("iteration", "seconds", "train_loss", "train_accuracy", "test_accuracy")}

    def _add(self, c: StepContext, m: dict) -> None:
        for k, v in (("iteration", c.step), ("seconds", c.seconds), ("train_loss", m["loss"]),
                     ("train_accuracy", m["accuracy"]), ("test_accuracy", m["test_accuracy"])):
            self.curve[k].append(v)

    def _evaluate_and_log(self, c: StepContext) -> None:
        m = _evaluate(c.model, self.data)
        c.run.log({"event": "eval", "phase": c.phase, "step": c.step, "samples": c.step * self.batch,
                   "split": self.SPLIT, **m})
        self._add(c, m)

    def on_start(self, c: StepContext) -> None:
        self._evaluate_and_log(c)

    def on_eval(self, c: StepContext, metrics: dict) -> None:
        self._add(c, metrics)

    def on_end(self, c: StepContext) -> None:
        if self.curve["iteration"][-1] != c.step:
            self._evaluate_and_log(c)


def train_curve(name: str, model: nn.Module, make_opt: Callable, data: NetData, iterations: int, batch: int,
                eval_every: int, ctx: RunContext, *, masks: dict | None = None, label: str = "",
                part: str = "") -> dict:
    """Train with one optimizer through the one loop (phase ``"<part>/<name>"``); evaluate at 0,
    every `eval_every` and the last iteration. With `masks`, first-order methods keep the pruned
    weights at zero (`MaskHook`); second-order ones carry the masks in their param groups."""
    opt = make_opt(model)
    hooks = [MaskHook(masks)] if masks is not None and not isinstance(opt, SecondOrderOptimizer) else []
    engine = ClosureEngine(model, opt, _batch_loss, hooks=hooks)
    curve = _Curve(data, batch)
    settings = LoopSettings(steps=iterations, batch_size=batch, log_every=eval_every, eval_every=eval_every,
                            checkpoint_every=0)
    state, diverged = PhaseState(f"{part}/{name}" if part else name), None
    try:
        train_phase(ctx, state, engine, (data.x, data.y), SampleStream(len(data.x), data.seed), settings=settings,
                    stream_start=0, hooks=[curve], eval_fn=lambda m: _evaluate(m, data), eval_split=_Curve.SPLIT)
    except DivergenceError as e:
        diverged = engine.diverged or str(e)
    curve = curve.curve
    seconds = state.seconds
    print(f"[second-order] {label}{name}: loss {curve['train_loss'][0]:.4f} -> {curve['train_loss'][-1]:.4f} "
          f"in {curve['iteration'][-1]} iterations, {seconds:.1f}s", file=sys.stderr, flush=True)
    return {"method": name, **curve, "diverged": diverged, "final_train_loss": curve["train_loss"][-1],
            "final_test_accuracy": curve["test_accuracy"][-1], "train_seconds": seconds,
            "seconds_per_iteration": seconds / max(1, curve["iteration"][-1])}


def slow_net_part(cfg, ds, ctx: RunContext) -> dict:
    """Part (c): SGD, Adam, exact SFN (per-layer blocks), Krylov SFN and Hessian-free on the slow net."""
    data = make_data(ds, cfg.eval_samples, cfg.test_samples, cfg.seed, cfg.device)
    torch.manual_seed(cfg.seed)
    start = SlowNet(data.x.shape[1], cfg.width, data.classes, cfg.slope,
                    torch.Generator().manual_seed(cfg.seed)).double().to(cfg.device)
    params = lambda m: [p for p in m.parameters()]  # noqa: E731
    methods = {
        "sgd": lambda m: make_optimizer("sgd", m.parameters(), lr=cfg.sgd_lr),
        "adam": lambda m: make_optimizer("adam", m.parameters(), lr=cfg.adam_lr),
        "sfn": lambda m: SaddleFreeNewton(layer_groups(m), lr=cfg.sfn_lr, damping=cfg.sfn_damping, hessian="block"),
        "krylov-sfn": lambda m: KrylovSaddleFreeNewton(params(m), k=cfg.krylov_k, lr=cfg.sfn_lr, damping=cfg.sfn_damping),
        "hessian-free": lambda m: HessianFreeNewton(params(m), damping=cfg.hf_damping, cg_iters=cfg.hf_cg_iters),
    }
    runs = [train_curve(name, copy.deepcopy(start), make, data, cfg.iterations, cfg.batch_size, cfg.eval_every,
                        ctx, label="slow net ", part="slow-net") for name, make in methods.items()]
    blocks = [sum(p.numel() for p in g["params"]) for g in layer_groups(start)]
    return {"dataset": ds.name, "shape": f"{data.x.shape[1]}->{cfg.width} (fixed) -> {cfg.width}-{cfg.width}-{data.classes}",
            "parameters": sum(blocks), "hessian_blocks": blocks, "batch_size": cfg.batch_size,
            "iterations": cfg.iterations, "eval_samples": len(data.y_eval), "runs": runs,
            "settings": {"sgd_lr": cfg.sgd_lr, "adam_lr": cfg.adam_lr, "sfn_lr": cfg.sfn_lr, "sfn_damping": cfg.sfn_damping,
                         "krylov_k": cfg.krylov_k, "hf_damping": cfg.hf_damping, "hf_cg_iters": cfg.hf_cg_iters}}


def pruned_part(cfg, ds, ctx: RunContext) -> dict:
    """Part (d): burn-in, magnitude pruning, then SGD / Adam / exact SFN over the live weights."""
    data = make_data(ds, cfg.eval_samples, cfg.test_samples, cfg.seed, cfg.device)
    torch.manual_seed(cfg.seed)
    model = MLP([data.x.shape[1], cfg.pruned_hidden, data.classes], activation="tanh").double().to(cfg.device)
    burn = train_curve("burn-in sgd", model, lambda m: make_optimizer("sgd", m.parameters(), lr=cfg.pruned_sgd_lr),
                       data, cfg.burnin_steps, cfg.batch_size, max(1, cfg.burnin_steps), ctx, label="pruned ",
                       part="pruned")
    dense_total = sum(p.numel() for p in model.parameters())
    masks = select_global(magnitude_scores(model), keep=cfg.live_weights)
    apply_masks(model, masks)
    groups = live_param_groups(model, masks)
    system = live_count(groups)
    methods = {
        "sgd": lambda m: make_optimizer("sgd", m.parameters(), lr=cfg.pruned_sgd_lr),
        "adam": lambda m: make_optimizer("adam", m.parameters(), lr=cfg.pruned_adam_lr),
        "sfn": lambda m: SaddleFreeNewton(live_param_groups(m, masks), lr=cfg.pruned_sfn_lr, damping=cfg.sfn_damping,
                                          max_params=max(system, 12_000)),
    }
    # The pruned start is shared: every method continues from a copy of the same net.
    runs = [train_curve(name, copy.deepcopy(model), make, data, cfg.pruned_iterations, cfg.batch_size,
                        cfg.eval_every, ctx, masks=masks, label="pruned ", part="pruned") for name, make in methods.items()]
    return {"dataset": ds.name, "model": f"mlp {data.x.shape[1]}-{cfg.pruned_hidden}-{data.classes} tanh",
            "dense_parameters": dense_total, "live_weights": cfg.live_weights, "newton_system_size": system,
            "burnin": {"steps": cfg.burnin_steps, "final_train_loss": burn["final_train_loss"],
                       "final_test_accuracy": burn["final_test_accuracy"], "seconds": burn["train_seconds"]},
            "iterations": cfg.pruned_iterations, "runs": runs,
            "settings": {"sgd_lr": cfg.pruned_sgd_lr, "adam_lr": cfg.pruned_adam_lr, "sfn_lr": cfg.pruned_sfn_lr,
                         "sfn_damping": cfg.sfn_damping}}


__all__ = ["SlowNet", "squared_error", "slow_net_part", "pruned_part", "train_curve", "make_data"]
