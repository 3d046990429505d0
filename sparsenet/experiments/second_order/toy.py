"""Parts (a) and (b) of `sparsenet reproduce second-order`: a saddle-escape demo and Rosenbrock.

(a) Two problems started next to a saddle point:

* ``f(x, y) = x²/2 + y⁴/4 − y²/2``: a saddle at (0, 0) (eigenvalues +1, −1), minima (0, ±1) with
  f = −1/4; start (1, 1e-4).
* a deep linear net ``W2 W1 x`` (3-3-3, squared error, targets A x): W = 0 is a saddle of the loss
  (gradient 0, Hessian eigenvalues ±σ(A Σ)); start at W = 1e-3·N(0, 1).

Plain Newton (−H⁻¹g) is attracted to the saddle, gradient descent moves away at the slow rate
(1 + lr·|λ_min|) per step, saddle-free Newton (−|H|⁻¹g) escapes at a rate independent of λ.
(b) Rosenbrock ``(1 − x)² + 100 (y − x²)²`` from (−1.2, 1), the classic anisotropic valley.

Each method runs through the one loop (`sparsenet.train.train_phase`, a `ClosureEngine` whose
batch loss ignores the batch: these problems have no data), phase ``"<part>/<problem>/<method>"``;
a hook records the loss (and distance to the saddle) after every step.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from ...errors import DivergenceError
from ...optim import HessianFreeNewton, KrylovSaddleFreeNewton, SaddleFreeNewton
from ...train import ClosureEngine, Hook, LoopSettings, PhaseState, RunContext, SampleStream, StepContext, train_phase
from ...train import make_optimizer


def _first_order(kind: str, params, lr: float):
    return make_optimizer("sgd" if kind == "gd" else "adam", params, lr=lr)


class _Trace(Hook):
    """The loss (and distance) after every step; a non-finite loss ends the phase."""

    def __init__(self, loss_fn: Callable[[], torch.Tensor], distance: Callable[[], float] | None):
        self.loss_fn, self.distance = loss_fn, distance
        self.losses, self.dists, self.diverged = [], [], None

    def _record(self) -> float:
        with torch.no_grad():
            loss = float(self.loss_fn().detach())
        self.losses.append(loss if math.isfinite(loss) else float("nan"))
        if self.distance:
            self.dists.append(self.distance())
        return loss

    def on_start(self, c: StepContext) -> None:
        self._record()

    def after_step(self, c: StepContext) -> None:
        loss = self._record()
        if not math.isfinite(loss):
            self.diverged = f"iteration {c.step}: loss {loss}"
            c.stop()


def run_method(name: str, params: list[torch.Tensor], loss_fn: Callable[[], torch.Tensor], iterations: int,
               make: Callable, distance: Callable[[], float] | None = None, *, ctx: RunContext,
               phase: str = "") -> dict:
    """`iterations` steps of one optimizer through the one loop; loss (and distance to the saddle)
    after each, with the loop's training seconds."""
    model = nn.ParameterList(params)  # the same Parameter objects: the loop's view of the problem
    engine = ClosureEngine(model, make(params), lambda m, x, y: loss_fn())
    trace = _Trace(loss_fn, distance)
    state, diverged = PhaseState(phase or name), None
    settings = LoopSettings(steps=iterations, batch_size=1, log_every=1, checkpoint_every=0)
    try:
        train_phase(ctx, state, engine, (torch.zeros(1, 1), torch.zeros(1, dtype=torch.long)), SampleStream(1, 0),
                    settings=settings, stream_start=0, hooks=[trace])
    except DivergenceError as e:
        diverged = engine.diverged or str(e)
    diverged = diverged or trace.diverged
    losses = trace.losses
    out = {"method": name, "loss": losses, "seconds": state.seconds, "diverged": diverged, "final_loss": losses[-1]}
    if distance:
        out["distance_to_saddle"] = trace.dists
        out["final_distance"] = trace.dists[-1]
    return out


def first_below(values: list[float], threshold: float) -> int | None:
    """The first iteration whose value is below `threshold` (None if never)."""
    return next((i for i, v in enumerate(values) if v < threshold), None)


def _methods(gd_lr: float, damping: float) -> dict[str, Callable]:
    return {
        "gd": lambda ps: _first_order("gd", ps, gd_lr),
        "newton": lambda ps: SaddleFreeNewton(ps, lr=1.0, damping=1e-8, absolute=False),
        "sfn": lambda ps: SaddleFreeNewton(ps, lr=1.0, damping=damping, line_search=True),
    }


def saddle_part(iterations: int, gd_lr: float = 0.1, damping: float = 1e-3, seed: int = 0, *,
                ctx: RunContext) -> dict:
    """Part (a): both saddle problems under GD, Newton and SFN."""
    results = {"iterations": iterations, "gd_lr": gd_lr, "sfn_damping": damping, "problems": {}}

    # ---- the 2-D function
    rows = []
    for name, make in _methods(gd_lr, damping).items():
        w = torch.nn.Parameter(torch.tensor([1.0, 1e-4], dtype=torch.float64))
        f = lambda w=w: 0.5 * w[0] ** 2 + 0.25 * w[1] ** 4 - 0.5 * w[1] ** 2  # noqa: E731
        r = run_method(name, [w], f, iterations, make, distance=lambda w=w: float(w.detach().norm()), ctx=ctx,
                       phase=f"saddle/2d/{name}")
        r["final_point"] = w.detach().tolist()
        r["escaped_at"] = first_below(r["loss"], -0.249)  # the minima have f = -0.25
        rows.append(r)
    results["problems"]["2d"] = {"function": "x^2/2 + y^4/4 - y^2/2", "start": [1.0, 1e-4], "saddle": [0.0, 0.0],
                                 "saddle_loss": 0.0, "minimum_loss": -0.25, "runs": rows}

    # ---- the deep linear net
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(3, 100, generator=g, dtype=torch.float64)
    A = torch.tensor([[2.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.5]], dtype=torch.float64)
    Y = A @ X
    start = [1e-3 * torch.randn(3, 3, generator=g, dtype=torch.float64) for _ in range(2)]
    saddle_loss = float(0.5 * (Y ** 2).sum() / X.shape[1])
    rows = []
    for name, make in _methods(gd_lr, damping).items():
        W1, W2 = (torch.nn.Parameter(s.clone()) for s in start)
        f = lambda W1=W1, W2=W2: 0.5 * ((W2 @ W1 @ X - Y) ** 2).sum() / X.shape[1]  # noqa: E731
        dist = lambda W1=W1, W2=W2: float(torch.cat([W1.detach().reshape(-1), W2.detach().reshape(-1)]).norm())  # noqa: E731
        r = run_method(name, [W1, W2], f, iterations, make, distance=dist, ctx=ctx, phase=f"saddle/deep_linear/{name}")
        r["escaped_at"] = first_below(r["loss"], 0.01 * saddle_loss)
        rows.append(r)
    results["problems"]["deep_linear"] = {"net": "W2 W1 x, 3-3-3, targets A x, 100 samples", "start": "1e-3 N(0,1)",
                                          "saddle_loss": saddle_loss, "minimum_loss": 0.0, "runs": rows}
    return results


def rosenbrock_part(iterations: int, gd_lr: float = 1e-3, adam_lr: float = 0.02, damping: float = 1e-3,
                    krylov_k: int = 2, *, ctx: RunContext) -> dict:
    """Part (b): Rosenbrock from (−1.2, 1) under GD, Adam, Newton, SFN, Krylov SFN and Hessian-free."""
    methods = {
        "gd": lambda ps: _first_order("gd", ps, gd_lr),
        "adam": lambda ps: _first_order("adam", ps, adam_lr),
        "newton": lambda ps: SaddleFreeNewton(ps, lr=1.0, damping=1e-8, absolute=False),
        "sfn": lambda ps: SaddleFreeNewton(ps, lr=1.0, damping=damping, line_search=True),
        "krylov-sfn": lambda ps: KrylovSaddleFreeNewton(ps, k=krylov_k, lr=1.0, damping=damping, line_search=True),
        "hessian-free": lambda ps: HessianFreeNewton(ps, damping=1.0),
    }
    rows = []
    for name, make in methods.items():
        w = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=torch.float64))
        f = lambda w=w: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2  # noqa: E731
        r = run_method(name, [w], f, iterations, make, ctx=ctx, phase=f"rosenbrock/{name}")
        r["final_point"] = w.detach().tolist()
        r["iterations_to_1e-8"] = first_below(r["loss"], 1e-8)
        rows.append(r)
    return {"iterations": iterations, "start": [-1.2, 1.0], "minimum": [1.0, 1.0], "gd_lr": gd_lr,
            "adam_lr": adam_lr, "runs": rows}


__all__ = ["saddle_part", "rosenbrock_part", "run_method", "first_below"]
