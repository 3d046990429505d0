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
from ...config import all_positive, config_to_dict, non_negative, option, positive
from ...errors import SparsenetError
from ...train import FusedEngine, machine_info
from ...train.runtime import DEVICE_HELP, SEED_HELP, THREADS_HELP, check_device_text, check_threads, runtime
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP, open_run, resolve
from ..train.run import run_train
from .. import choices
from ..train.config import TrainConfig

# The seed's reported numbers (MNIST, the author's laptop, scipy): facts to compare against.
REFERENCE = {
    "dataset": "mnist", "widths": [2, 4, 8, 16, 32, 64, 128],
    "dense_accuracy": [0.192, 0.356, 0.672, 0.918, 0.940, 0.936, 0.938],
    "sparse_accuracy": [0.192, 0.204, 0.682, 0.880, 0.870, 0.890, 0.832],
    "dense_seconds": [181, 224, 290, 452, 798, 1527, 2869],
    "sparse_seconds": [181, 203, 191, 200, 199, 225, 256],
    "source": "design doc 000 (H. Lee, \"Stupid Optimization on MLP\", 2016): the numbers of its author's code",
}

FULL_WIDTHS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
# --quick: the dense PyTorch baseline is the cost (a step at H=4096 is ~16x one at H=256), so
# quick stops at 1024, trains 2,000 samples after pruning and tests on 2,000 examples.
QUICK_WIDTHS = (16, 64, 256, 1024)
QUICK_STEPS = 2000
QUICK_TEST = 2000
QUICK_OUT_SUFFIX = "-quick"
# config value -> the "variant" of its rows in results.json ("sparse" is the seed's, as before)
SPARSE_VARIANTS = {"seed": "sparse", "fixed-total": "fixed-total"}


@dataclass(frozen=True)
class SeedFigureConfig:
    dataset: str = option("fashion-mnist", help="dataset (the seed used mnist: --dataset mnist --data-dir DIR)", choices=choices.datasets)
    data_dir: str | None = option(None, help="directory holding the dataset files")
    widths: tuple[int, ...] = option(FULL_WIDTHS, help="hidden widths H of the MLP in-H-10", check=all_positive)
    budget: int = option(3180, help="live weights kept in the hidden layer (seed variant: halving until <= budget; fixed-total: exactly budget)", check=positive)
    sparse_variants: tuple[str, ...] = option(tuple(SPARSE_VARIANTS), help="sparse variants run next to the dense one: seed = hidden layer pruned to --budget, output layer dense (the seed's); fixed-total = the output layer pruned too, to --output-budget, so every width keeps budget + output-budget live weights", choices=tuple(SPARSE_VARIANTS))
    output_budget: int = option(160, help="live output-layer weights of the fixed-total variant (160 = the dense output layer at H=16)", check=positive)
    burnin_steps: int = option(200, help="dense online-SGD samples before pruning", check=non_negative)
    steps: int = option(30000, help="online-SGD samples after pruning", check=positive)
    lr: float = option(0.01, help="learning rate", check=positive)
    activation: str = option("tanh", help="hidden activation", choices=choices.activations)
    engine: str = option("auto", help="engine of the sparse variant (auto = the fused batch-1 kernel)", choices=("auto", "torch", "fused"))
    dense_engine: str = option("torch", help="engine of the dense variant: torch = dense PyTorch autograd + SGD (the project's baseline); fused = the same batch-1 kernel as the sparse variant", choices=("auto", "torch", "fused"))
    n_test: int | None = option(None, help="test examples used (default: the full test set; --quick: 2,000)", check=lambda v: None if v is None else positive(v))
    quick: bool = option(False, help=f"reduced run in under 2 minutes: widths {','.join(map(str, QUICK_WIDTHS))} (unless --widths), {QUICK_STEPS:,} samples after pruning, {QUICK_TEST:,} test examples (unless --n-test), output in OUT/seed-figure{QUICK_OUT_SUFFIX}")
    seed: int = option(0, help=SEED_HELP)
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    device: str = option("cpu", help=DEVICE_HELP + " (on CUDA both variants train with torch autograd)", check=check_device_text)
    out: str = option("runs", help=OUT_HELP.replace("NAME-<hash>", "seed-figure, seed-figure-quick, or with a hash of other settings"))
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP + " (finished (width, variant) runs are reused)")
    progress: bool = option(True, help="show progress bars on a terminal")


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
