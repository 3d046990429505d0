"""`sparsenet prune`: train dense → prune → (optionally) retrain, for one or many criteria ×
sparsities; several points make a comparison. Resumable: finished points are skipped on rerun.

Run directory:

    config.json                       the config ("experiment": "prune" or "prune-compare")
    dense.pt                          the trained dense model (+ its test metrics)
    weights_dense.safetensors         its prunable weights (for the before/after histogram)
    points/<criterion>_s<sparsity>.json   one finished point: accuracy, per-layer densities, collapse
    masks/<point>.safetensors, weights/<point>.safetensors   its masks and pruned weights
    results.json                      written last: dense metrics + every point

The pipeline of a point: load the dense weights, prune with `sparsenet.prune.prune` on the schedule
(``one-shot``; ``iterative``: rounds, retraining ``retrain_steps / rounds`` after each; ``gradual``:
Zhu & Gupta during retraining; ``movement`` then accumulates its scores over those steps), retrain under ``--execution`` (`sparsenet.train.execution`: masked = dense with the masks held by `MaskHook`, csr = the
masked layers as `SparseLinear`, auto = per layer the faster; recorded per point under "execution"), evaluate, and
physically remove disconnected units to report the shrunk model. Criterion ``han`` runs Han et
al. 2015 (per-layer threshold q·σ, iterated prune/retrain at the lower learning rate);
``random@NAME`` prunes randomly with the per-layer densities NAME chose.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch import nn

from ... import io
from ...allocation import collapse_problems
from ...criteria import MovementAccumulator
from ...config import config_from_dict, config_to_dict
from ...data import data_seed, load_dataset
from ...errors import ConfigError
from ...masks import apply_masks, count_live, count_total, full_masks, layer_stats, prunable_names, save_masks
from ...models import build_model
from ...models.builders import SPEC_MODELS
from ...prune import ScheduledPruning, density_masks, han_schedule, prune, shrink, unit_links
from ...schedules import gradual, iterative
from ...train import (LoopSettings, PhaseState, RunContext, SampleStream, TorchEngine, evaluate, machine_info,
                     make_optimizer, train_phase)
from ...train.progress import line as progress_line
from ...train.execution import prepare_execution
from ...train.runtime import dataset_to, runtime
from ...train.health import logged_losses, run_warning
from ..feasibility import check_prune_sparsities
from .init_from import load_init
from ...rundir import open_run, resolve
from .config import PruneConfig

VERSION = "0.1.0"


def resolve_run_dir(cfg: PruneConfig) -> Path:
    return resolve(cfg, "prune")


def experiment_kind(cfg: PruneConfig) -> str:
    return "prune" if len(cfg.criteria) * len(cfg.sparsities) == 1 else "prune-compare"


def point_id(criterion: str, sparsity: float | None) -> str:
    if sparsity is None:
        return criterion
    return f"{criterion.replace('@', '-at-')}_s{sparsity:.4f}"


def _model(cfg: PruneConfig, data) -> nn.Module:
    """Built (and initialised) on CPU, then moved to --device: the same start on every device."""
    spec = cfg.spec if cfg.model in (*SPEC_MODELS, "convnet") else None
    return build_model(cfg.model, spec=spec, activation=cfg.activation, in_features=data.in_features,
                       num_classes=data.num_classes).to(cfg.device)


def _check(cfg: PruneConfig, model: nn.Module) -> list[str]:
    """Every check that can fail before training; returns the pruned layer names."""
    names = prunable_names(model, skip=[s for s in cfg.skip if s], include_bias=cfg.include_bias)
    if cfg.include_bias and (cfg.structure != "unstructured" or "han" in cfg.criteria):
        raise ConfigError("--include-bias works with --structure unstructured and criteria other than 'han'")
    if not names:
        raise ConfigError(f"--skip {','.join(cfg.skip)} leaves nothing to prune")
    if cfg.structure != "unstructured":
        unit_links(model, names, cfg.structure)
    if cfg.allocation == "spectral" and cfg.structure != "neuron":
        raise ConfigError("--allocation spectral chooses neurons per layer: use --structure neuron")
    if "han" in cfg.criteria and len(cfg.han_density) != len(names):
        raise ConfigError(f"--han-density has {len(cfg.han_density)} entries but {len(names)} layers are pruned "
                          f"({', '.join(names)}); give one density per layer")
    if cfg.schedule == "gradual" and cfg.retrain_steps < 2:
        raise ConfigError("--schedule gradual prunes during retraining: give --retrain-steps >= 2")
    if any(c.startswith("random@") for c in cfg.criteria) and cfg.structure != "unstructured":
        raise ConfigError("random@NAME matches per-layer weight densities: use --structure unstructured")
    params = dict(model.named_parameters())
    check_prune_sparsities({n: params[n].numel() for n in names if n in params}, cfg)
    return names


def run_prune(cfg: PruneConfig, *, command: str | None = None) -> dict:
    """Run (or finish) the sweep; returns the results written to results.json."""
    cfg = config_from_dict(PruneConfig, config_to_dict(cfg))
    with runtime(cfg.threads, cfg.device, cfg.seed):
        return _run_prune(cfg, command or "sparsenet " + " ".join(sys.argv[1:]))


def _run_prune(cfg: PruneConfig, command: str) -> dict:
    data = load_dataset(cfg.dataset, cfg.data_dir, seed=cfg.data_seed).flat()
    if cfg.n_train or cfg.n_test:
        data = data.subset(cfg.n_train, cfg.n_test)
    data = dataset_to(data, cfg.device)
    torch.manual_seed(cfg.seed)
    model = _model(cfg, data)
    names = _check(cfg, model)
    if cfg.init_from:
        load_init(model, cfg.init_from, f"--model {cfg.model}" + (f" --spec {cfg.spec}" if cfg.spec else ""))
    with open_run(resolve_run_dir(cfg), cfg, experiment_kind(cfg), command=command) as rd:
        ctx = RunContext(rd.path, seed=cfg.seed, progress=cfg.progress)
        try:
            return _run(cfg, ctx, data, model, names, command)  # finished points are reused
        finally:
            ctx.close()


class _Trainer:
    """Runs phases of the one training loop on the run's data stream."""

    def __init__(self, cfg: PruneConfig, ctx: RunContext, data):
        self.cfg, self.ctx = cfg, ctx
        self.X, self.Y = data.x_train, data.y_train
        self.stream = SampleStream(self.X.shape[0], cfg.seed)
        self.executions: list[dict] = []  # {"phase", "layers": per-layer choices} of each masked phase
        self.trained_seconds = 0.0  # training time (optimizer steps) since the caller last reset it
        self.execution = None  # the phase's `Execution` while it trains

    def train(self, model: nn.Module, steps: int, lr: float, phase: str, hooks=(), masks=None,
              gradual: bool = False) -> float:
        """Train `model` for `steps`; with `masks` it trains under --execution
        (`sparsenet.train.execution`): masked layers dense with the masks enforced, or as
        SparseLinear, restored to dense nn.Linear afterwards. `gradual`: the masks shrink during
        the phase (a `ScheduledPruning` hook holds them and calls `self.execution.replan` after each
        level, which moves layers onto CSR as they become sparse). The per-layer choices are
        appended to `self.executions`."""
        if steps <= 0:
            return 0.0
        cfg = self.cfg
        execution = None
        if masks is not None:
            execution = prepare_execution(model, masks, cfg.execution, batch_size=cfg.batch_size,
                                          optimizer=cfg.optimizer, defer_dense=gradual)
            hooks = (list(hooks) if gradual else list(execution.hooks) + list(hooks))
            self.executions.append({"phase": phase, "layers": execution.choices})
        self.execution = execution
        try:
            return self._train(model, steps, lr, phase, hooks)
        finally:
            self.execution = None
            if execution is not None:
                execution.restore()

    def _train(self, model: nn.Module, steps: int, lr: float, phase: str, hooks) -> float:
        cfg = self.cfg
        opt = make_optimizer(cfg.optimizer, model.parameters(), lr=lr, momentum=cfg.momentum,
                             weight_decay=cfg.weight_decay)
        engine = TorchEngine(model, opt, hooks=list(hooks))
        settings = LoopSettings(steps=steps, batch_size=cfg.batch_size, log_every=max(1, min(500, steps)),
                                eval_every=0, checkpoint_every=0)
        state = train_phase(self.ctx, PhaseState(phase), engine, (self.X, self.Y), self.stream, settings=settings,
                            stream_start=0)
        self.trained_seconds += state.seconds
        return state.seconds


def _run(cfg: PruneConfig, ctx: RunContext, data, model: nn.Module, names: list[str], command: str) -> dict:
    trainer = _Trainer(cfg, ctx, data)
    Xt, Yt = data.x_test, data.y_test
    dense_file = ctx.out_dir / "dense.pt"
    if dense_file.exists():
        saved = io.torch_load(dense_file)
        model.load_state_dict(saved["model"])
    else:
        if cfg.init_from:  # loaded (and checked against the model) by _run_prune, before any work
            seconds = 0.0
        else:
            seconds = trainer.train(model, cfg.train_steps, cfg.lr, "dense")
        saved = {"model": model.state_dict(), "eval": evaluate(model, Xt, Yt), "seconds": seconds}
        io.torch_save(dense_file, saved)
        params = dict(model.named_parameters())
        io.save_tensors(ctx.out_dir / "weights_dense.safetensors", {n: params[n].detach() for n in names})
    g = torch.Generator().manual_seed(cfg.seed)
    idx = torch.randperm(data.x_train.shape[0], generator=g)[:cfg.score_samples]
    batch = (data.x_train[idx], data.y_train[idx])
    points = []
    for crit in cfg.criteria:
        for s in ([None] if crit == "han" else cfg.sparsities):
            pid = point_id(crit, s)
            path = ctx.out_dir / "points" / f"{pid}.json"
            if path.exists():
                points.append(io.read_json(path))
                continue
            fresh = _model(cfg, data)
            fresh.load_state_dict(saved["model"])
            t0, trainer.trained_seconds = time.perf_counter(), 0.0
            point = _run_point(cfg, trainer, fresh, names, crit, s, batch, data, pid)
            point["seconds"] = round(time.perf_counter() - t0, 3)  # the whole point: scoring, evaluation, ...
            point["retrain_seconds"] = round(trainer.trained_seconds, 3)  # optimizer steps only (the loop's clock)
            io.write_json(path, point)
            ctx.log({"event": "point", **{k: point[k] for k in ("id", "criterion", "sparsity", "accuracy")}})
            progress_line(cfg.progress, f"[prune] point {pid}: sparsity {point['sparsity']:.4f}, accuracy "
                                        f"{point['accuracy']:.4f} ({point['seconds']:.1f} s)")
            points.append(point)
    results = {"experiment": experiment_kind(cfg), "dataset": cfg.dataset,
               "data_seed": data_seed(cfg.dataset, cfg.data_seed), "model": cfg.model,
               "dense": {**saved["eval"], "seconds": saved.get("seconds", 0.0)}, "points": points,
               "execution": cfg.execution, "machine": machine_info(cfg.device), "command": command}
    results["warnings"] = _warnings(cfg, ctx, saved, points, data)
    io.write_json(ctx.out_dir / "results.json", results)
    return results


def _warnings(cfg: PruneConfig, ctx: RunContext, saved: dict, points: list[dict], data) -> list[str]:
    """`run_warning` of the dense training and of every retrained point (pruning alone may
    legitimately end at chance: that is a measured collapse, not a failed run)."""
    check = dict(labels=data.y_test, num_classes=data.num_classes)
    out = []
    if not cfg.init_from and cfg.train_steps > 0:
        out.append(run_warning("dense training", accuracy=saved["eval"]["accuracy"],
                               losses=logged_losses(ctx.metrics_path, ["dense"]), **check))
    if cfg.retrain_steps > 0:
        retrain = "lower --retrain-lr" if cfg.retrain_lr is not None else "lower --lr (retraining uses --lr / 10)"
        for p in points:
            out.append(run_warning(f"point {p['id']} after retraining", accuracy=p["accuracy"], fix=retrain,
                                   losses=logged_losses(ctx.metrics_path, prefix=p["id"]), **check))
    return [w for w in out if w]


def _prune_kwargs(cfg: PruneConfig, names: list[str], batch) -> dict:
    return dict(scope=cfg.scope, structure=cfg.structure, allocation=cfg.allocation, min_density=cfg.min_density,
                force=cfg.force, names=names, batch=batch, update=cfg.update)


def _run_point(cfg: PruneConfig, trainer: _Trainer, model: nn.Module, names: list[str], crit: str,
               s: float | None, batch, data, pid: str) -> dict:
    Xt, Yt = data.x_test, data.y_test
    retrain_lr = cfg.retrain_lr if cfg.retrain_lr is not None else cfg.lr / 10
    kw = _prune_kwargs(cfg, names, batch)
    point: dict = {"id": pid, "criterion": crit, "target_sparsity": s}
    trainer.executions = []
    masks = full_masks(model, names)
    with torch.no_grad():
        dense_out = model(Xt[:2000]).clone()

    def output_change() -> float:
        """Mean squared change of the test logits from the dense model (right after pruning)."""
        with torch.no_grad():
            return float(((model(Xt[:2000]) - dense_out) ** 2).mean())

    if crit == "han":
        goal = dict(zip(names, cfg.han_density))
        point["iterations"] = []
        for i, level in enumerate(han_schedule(goal, cfg.han_iterations)):
            masks, quality = density_masks(model, level, masks)
            apply_masks(model, masks)
            before = evaluate(model, Xt, Yt)["accuracy"]
            trainer.train(model, cfg.retrain_steps, retrain_lr, f"{pid}:{i}", masks=masks)
            point["iterations"].append({"density": level, "quality": quality, "accuracy_pruned": before,
                                        "accuracy": evaluate(model, Xt, Yt)["accuracy"]})
    elif crit.startswith("random@"):
        ref = _model(cfg, data)
        ref.load_state_dict(model.state_dict())
        ref_masks = prune(ref, crit.split("@", 1)[1], s, apply=False, **kw)
        budgets = {n: int(m.sum()) for n, m in ref_masks.items()}
        masks = prune(model, "random", None, **{**kw, "allocation": "budgets"}, budgets=budgets,
                      criterion_kwargs={"seed": cfg.seed}, enforce=False)  # --execution enforces them
        point["accuracy_pruned"] = evaluate(model, Xt, Yt)["accuracy"]
        point["output_change"] = output_change()
        trainer.train(model, cfg.retrain_steps, retrain_lr, pid, masks=masks)
    elif cfg.schedule == "gradual":
        end = max(1, int(0.75 * cfg.retrain_steps))
        hooks, extra = [], {}
        if crit == "movement":  # Sanh et al.: scores accumulate over the fine-tuning steps
            acc = MovementAccumulator(model, names)
            hooks, extra = [acc], {"criterion_kwargs": {"accumulator": acc}}
        hook = ScheduledPruning(gradual(s, start=0, end=end, every=max(1, end // 10)), criterion=crit,
                                batch_fn=lambda: batch, on_prune=lambda c, m: trainer.execution.replan(m, c.optimizer, step=c.step),
                                **{k: v for k, v in kw.items() if k != "batch"}, **extra)
        trainer.train(model, cfg.retrain_steps, retrain_lr, pid, hooks + [hook], masks=masks, gradual=True)
        masks = hook.masks
        point["levels"] = hook.history
    else:
        levels = [s] if cfg.schedule == "one-shot" else [v for _, v in iterative(s, rounds=cfg.rounds).levels()]
        steps = cfg.retrain_steps // len(levels)
        for i, level in enumerate(levels):
            masks = prune(model, crit, level, masks=masks, enforce=False, **kw)  # --execution enforces them
            point["accuracy_pruned"] = evaluate(model, Xt, Yt)["accuracy"]
            point["output_change"] = output_change()
            last = i == len(levels) - 1
            trainer.train(model, cfg.retrain_steps - steps * i if last else steps, retrain_lr, f"{pid}:{i}",
                          masks=masks)
    final = evaluate(model, Xt, Yt)
    point.update({"accuracy": final["accuracy"], "loss": final["loss"], "live": count_live(masks),
                  "total": count_total(masks), "sparsity": 1 - count_live(masks) / count_total(masks),
                  "layers": layer_stats(masks), "collapse": collapse_problems(masks),
                  "execution": trainer.executions})
    out = trainer.ctx.out_dir
    save_masks(out / "masks" / f"{pid}.safetensors", masks)
    params = dict(model.named_parameters())
    io.save_tensors(out / "weights" / f"{pid}.safetensors", {n: params[n].detach() for n in names})
    if cfg.remove_unconnected:
        point["shrunk"] = _shrunk(model, masks, Xt)
    return point


def _shrunk(model: nn.Module, masks: dict, Xt: torch.Tensor) -> dict | None:
    try:
        small, _, report = shrink(model, masks)
    except ConfigError as e:
        return {"skipped": str(e)}
    with torch.no_grad():
        x = Xt[:512]
        diff = float((small(x) - model(x)).abs().max()) if x.shape[0] else 0.0
    return {"spec": getattr(small, "spec", None), "params_before": sum(p.numel() for p in model.parameters()),
            "params_after": sum(p.numel() for p in small.parameters()), "max_output_change": diff,
            "units": report}


__all__ = ["run_prune", "resolve_run_dir", "point_id", "experiment_kind"]
