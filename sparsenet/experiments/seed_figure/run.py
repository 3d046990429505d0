"""`sparsenet reproduce seed-figure`: the seed's two figures (accuracy and training time vs hidden
width at a fixed weight budget), dense vs sparsified MLP in-H-10, online SGD.

Protocol (design doc 000, H. Lee, "Stupid Optimization on MLP", from its author's code): tanh
hidden units, batch 1, lr 0.01, 200 dense burn-in samples, then the hidden layer is pruned by
magnitude — repeated halving at the median of the surviving |w| until at most the budget (~3,180)
remains — the output layer stays dense, then 30,000 more samples.

Two sparse variants (`sparse_variants`), each next to the same dense run:

* ``seed`` (rows ``"sparse"``): the seed's protocol above. The budget bounds the hidden layer
  only; the dense output layer grows with the hidden units that survive (10 per unit), so the
  total live weights grow with the width (3,296 at H=16, ~22,000 at H=4096).
* ``fixed-total`` (rows ``"fixed-total"``): the output layer is pruned too, first, to
  `output_budget` weights, then the hidden layer keeps exactly `budget` weights on the units that
  still have an output (`sparsenet.masks.output_first`): budget + output_budget live weights at
  every width, so its sparse training time shows the O(nnz) cost on its own.

Each (width, variant) is an ordinary `sparsenet train` run directory under `runs/`; finished ones
are skipped on rerun, so the sweep resumes where it stopped.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from ... import io
from ...config import config_to_dict
from ...errors import SparsenetError
from ...train import FusedEngine, machine_info
from ...train.runtime import runtime
from ...rundir import open_run, resolve
from ..train.run import run_train
from ..train.config import TrainConfig
from .config import FULL_WIDTHS, QUICK_STEPS, QUICK_TEST, QUICK_WIDTHS, REFERENCE, SPARSE_VARIANTS, SeedFigureConfig


@dataclass(frozen=True)
class Plan:
    """What a (possibly --quick) seed figure runs."""

    widths: tuple[int, ...]
    steps: int
    n_test: int | None
    out: Path


def effective(cfg: SeedFigureConfig) -> Plan:
    """The widths, samples, test examples and output directory; --quick reduces each one the
    user left at its default (a quick run never shares sub-runs with a full one)."""
    out = resolve_run_dir(cfg)
    if not cfg.quick:
        return Plan(cfg.widths, cfg.steps, cfg.n_test, out)
    return Plan(QUICK_WIDTHS if cfg.widths == FULL_WIDTHS else cfg.widths,
                min(cfg.steps, QUICK_STEPS),
                QUICK_TEST if cfg.n_test is None else cfg.n_test, out)


def resolve_run_dir(cfg: SeedFigureConfig) -> Path:
    """--run-dir, else OUT/seed-figure (defaults), OUT/seed-figure-quick (--quick), or with a hash."""
    return resolve(cfg, "seed-figure", tags=("quick",), bare_default=True)


def run_config(cfg: SeedFigureConfig, width: int, variant: str, in_features: int, classes: int,
               plan: Plan) -> TrainConfig:
    """The `sparsenet train` config of one (width, variant): "dense", "sparse" or "fixed-total"."""
    engine = cfg.dense_engine if variant == "dense" else cfg.engine
    prune: dict = {"prune": "none"} if variant == "dense" else {
        "prune": "magnitude", "rule": "halving", "budget": cfg.budget, "skip": ("last",)}
    if variant == "fixed-total":
        # Exact counts (top-k), so the total is the same at every width; a layer smaller than
        # its budget is kept whole.
        prune = {"prune": "magnitude", "rule": "budget", "skip": (),
                 "budget": min(cfg.budget, in_features * width),
                 "output_budget": min(cfg.output_budget, classes * width)}
    return TrainConfig(
        dataset=cfg.dataset, data_dir=cfg.data_dir, model="mlp", spec=f"{in_features}-{width}-{classes}",
        activation=cfg.activation, optimizer="sgd", lr=cfg.lr, batch_size=1,
        burnin_steps=cfg.burnin_steps, steps=plan.steps, remove_unconnected=True, engine=engine,
        n_test=plan.n_test, log_every=1000, eval_every=0, checkpoint_every=10000, seed=cfg.seed,
        threads=cfg.threads, device=cfg.device, **prune,
        run_dir=str(plan.out / "runs" / f"w{width}-{variant}-{engine}"), resume=True,
        progress=cfg.progress)


# Keys whose change does not change a finished run (see `train._prepare_dir`).
_SAME_RUN_EXEMPT = ("resume", "progress", "out", "run_dir", "data_dir")


def _check_reusable(tc: TrainConfig) -> None:
    """A finished sub-run is reused only when it was run with these settings."""
    path = Path(tc.run_dir) / "config.json"
    if not path.exists():
        return
    old = io.read_json(path).get("config", {})
    mine = config_to_dict(tc)
    # A key the old run lacks was added later; at its default it changes nothing.
    default = config_to_dict(TrainConfig())
    diff = [k for k in mine if k not in _SAME_RUN_EXEMPT and old.get(k, default.get(k)) != mine[k]]
    if diff:
        shown = ", ".join(f"{k} {old.get(k)!r} (now {mine[k]!r})" for k in diff[:3])
        raise SparsenetError(f"{tc.run_dir} holds a run with other settings: {shown}; use another "
                             "--out, or delete that directory to rerun it")


def run_seed_figure(cfg: SeedFigureConfig) -> dict:
    with runtime(cfg.threads, cfg.device, cfg.seed):  # checks --device before any sub-run starts
        return _run_seed_figure(cfg)


def _run_seed_figure(cfg: SeedFigureConfig) -> dict:
    from ...data import load_dataset

    plan = effective(cfg)
    data = load_dataset(cfg.dataset, cfg.data_dir, seed=cfg.seed)
    out = plan.out
    variants = ["dense"] + [SPARSE_VARIANTS[v] for v in dict.fromkeys(cfg.sparse_variants)]
    todo = [(w, v, run_config(cfg, w, v, data.in_features, data.num_classes, plan))
            for w in plan.widths for v in variants]
    for _, _, tc in todo:  # refuse stale sub-runs before any training
        _check_reusable(tc)
    # the sub-runs check their own settings, so the figure's may change on --resume (e.g. --widths)
    with open_run(out, cfg, "seed-figure", may_change=lambda key: True):
        return _run_all(cfg, plan, variants, todo)


def _run_all(cfg: SeedFigureConfig, plan: Plan, variants: list[str], todo: list) -> dict:
    from ...report import write_report

    out = plan.out
    rows = []
    for i, (width, variant, tc) in enumerate(todo, 1):
        print(f"[seed-figure] {i}/{len(todo)} H={width} {variant} ...", file=sys.stderr, flush=True)
        r = run_train(tc, command=f"sparsenet reproduce seed-figure (H={width}, {variant})")
        hidden, output = r["layers"][0], r["layers"][-1]
        rows.append({
            "width": width, "variant": variant, "live_weights": r["live_weights"],
            "hidden_live_weights": hidden["live"], "output_live_weights": output["live"],
            "live_hidden_units": r["hidden_units"][0],
            "train_seconds": r["train_seconds"], "phase_seconds": r["phase_seconds"],
            "test_accuracy": r["test_accuracy"], "test_loss": r["test_loss"], "engine": r["engine"],
            "run_dir": str(Path(tc.run_dir).relative_to(out))})
        print(f"[seed-figure] H={width} {variant}: acc {r['test_accuracy']:.4f} "
              f"time {r['train_seconds']:.2f}s live {r['live_weights']}", file=sys.stderr, flush=True)
    results = {"experiment": "seed-figure", "dataset": cfg.dataset, "budget": cfg.budget,
               "output_budget": cfg.output_budget, "variants": variants,
               "samples": {"burnin": cfg.burnin_steps, "after_pruning": plan.steps},
               "n_test": plan.n_test, "quick": cfg.quick, "machine": machine_info(cfg.device),
               "compile_seconds": FusedEngine.compile_seconds, "rows": rows, "reference": REFERENCE}
    io.write_json(out / "results.json", results)
    write_report(out)
    return results
