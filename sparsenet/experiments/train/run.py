"""`sparsenet train`: burn-in (dense) -> prune -> train the sparse network, resumable.

Phases of a run and what each leaves in the run directory:

    burnin  dense SGD/Adam for --burnin-steps      -> burnin.pt, snapshots/*_burnin.safetensors
    prune   masks by magnitude, remove unconnected -> masks.safetensors (shapes of model.safetensors),
                                                      masks_before_removal.safetensors (burn-in shapes,
                                                      when units were removed), a "prune" metrics line
    main    sparse (or dense with --prune none)    -> model.safetensors, snapshots/*_final, results.json

`checkpoint.pt` (atomic) holds the phase, step, model, optimizer and the metrics.jsonl length.
On --resume the pruned network is rebuilt from burnin.pt (pruning is deterministic) and the
checkpoint is loaded into it, so a killed run finishes exactly as an uninterrupted one would.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch import nn

from ... import io
from ...config import config_from_dict, config_to_dict
from ...data import data_seed, load_dataset
from ...errors import ConfigError
from ...masks import save_masks
from ...models import build_model
from ...models.builders import SPEC_MODELS
from ...nn import SparseLinear, sparsify
from ...train.execution import prepare_execution
from ...train import (BoostDecay, FusedEngine, LoopSettings, PhaseState, RunContext, SampleStream, TorchEngine,
                     evaluate, fused_unsupported_reason, machine_info, make_optimizer, train_phase)
from ...rundir import open_run, resolve
from ...train.context import Segments
from ...train.runtime import runtime
from ...train.health import logged_losses, run_warning
from .pruning import (check_prune_feasible, live_weight_count, prune_model, select_masks, stored_layers,
                      stored_weights, weight_layers)
from .config import TrainConfig

VERSION = "0.1.0"


def resolve_run_dir(cfg: TrainConfig) -> Path:
    return resolve(cfg, "train")


def load_data(cfg: TrainConfig):
    data = load_dataset(cfg.dataset, cfg.data_dir, seed=cfg.data_seed).flat()
    if cfg.n_train or cfg.n_test:
        data = data.subset(cfg.n_train, cfg.n_test)
    return data


def new_model(cfg: TrainConfig, data) -> nn.Module:
    """The seeded model, initialised on CPU (the same start on every device), then moved to --device."""
    torch.manual_seed(cfg.seed)
    spec = cfg.spec if cfg.model in SPEC_MODELS else None
    return build_model(cfg.model, spec=spec, activation=cfg.activation, in_features=data.in_features,
                       num_classes=data.num_classes, leaky_slope=cfg.leaky_slope).to(cfg.device)


def uses_fused(cfg: TrainConfig, model: nn.Module) -> bool:
    """Whether `make_engine` picks the fused batch-1 kernel for `model` (before any mask hooks)."""
    reason = fused_unsupported_reason(model, cfg.optimizer, cfg.momentum, cfg.weight_decay, cfg.batch_size)
    return cfg.engine == "fused" or (cfg.engine == "auto" and reason is None)


def make_engine(cfg: TrainConfig, model: nn.Module, hooks=()):
    """The engine of a phase; `hooks` (the mask hooks of --execution masked layers) need torch autograd."""
    reason = fused_unsupported_reason(model, cfg.optimizer, cfg.momentum, cfg.weight_decay, cfg.batch_size)
    if hooks and reason is None:
        reason = "masked layers (--execution masked or auto) need mask hooks, which the fused kernel cannot run"
    if cfg.engine == "fused" and reason:
        raise ConfigError(f"--engine fused cannot run this setup: {reason}; use --engine torch or auto")
    if cfg.engine == "fused" or (cfg.engine == "auto" and reason is None):
        return FusedEngine(model, cfg.lr)
    if torch.device(cfg.device).type == "cpu" and any(isinstance(m, SparseLinear) for m in model.modules()):
        from ...kernels.codegen import warm

        warm()  # compile (or load from the cache) before the clock starts
    opt = make_optimizer(cfg.optimizer, model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                         weight_decay=cfg.weight_decay)
    return TorchEngine(model, opt, hooks=list(hooks))


def _compile_seconds(engine: str) -> dict:
    """Kernel compile/load time of this process (once per process; 0-1 s when cached on disk)."""
    from ...kernels import codegen

    out = {"fused": FusedEngine.compile_seconds} if engine == "fused" else {}
    if codegen.COMPILE_SECONDS is not None:
        out["numba_kernels"] = codegen.COMPILE_SECONDS
    return out


def snapshot(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, n: int) -> tuple[dict, dict]:
    """Dense weights and the mean gradient over the first n examples, keyed `<layer>.weight`."""
    model.zero_grad(set_to_none=True)
    model.train()
    loss = nn.functional.cross_entropy(model(X[:n]), Y[:n])
    loss.backward()
    weights, grads = {}, {}
    for name, layer in weight_layers(model):
        key = f"{name}.weight"
        if isinstance(layer, SparseLinear):
            weights[key] = layer.to_dense()
            g = torch.zeros(layer.out_features, layer.in_features, device=layer.values.device)
            if layer.values.grad is not None:
                g[layer.row, layer.col.long()] = layer.values.grad
            grads[key] = g
        else:
            weights[key] = layer.weight.detach().clone()
            grads[key] = layer.weight.grad.detach().clone() if layer.weight.grad is not None \
                else torch.zeros_like(layer.weight)
    model.zero_grad(set_to_none=True)
    return weights, grads


def run_train(cfg: TrainConfig, *, command: str | None = None) -> dict:
    """Run (or resume) one training run; returns the results dict also written to results.json."""
    cfg = config_from_dict(TrainConfig, config_to_dict(cfg))  # validate a directly built config
    with runtime(cfg.threads, cfg.device, cfg.seed):
        return _run_train(cfg, command or "sparsenet " + " ".join(sys.argv[1:]))


def _run_train(cfg: TrainConfig, command: str) -> dict:
    data = load_data(cfg)
    model = new_model(cfg, data)
    check_prune_feasible(model, cfg)
    run_dir = resolve_run_dir(cfg)
    with open_run(run_dir, cfg, "train", command=command) as rd:
        if rd.finished:
            return io.read_json(run_dir / "results.json")
        ctx = RunContext(run_dir, seed=cfg.seed, progress=cfg.progress)
        ckpt = ctx.load_checkpoint() if rd.previous is not None else None
        ctx.truncate_metrics(ckpt["metrics_offset"] if ckpt else 0)
        try:
            return _run(cfg, ctx, data, model, ckpt)
        finally:
            ctx.close()


def _run(cfg, ctx: RunContext, data, model, ckpt) -> dict:
    X, Y, Xt, Yt = (t.to(cfg.device) for t in (data.x_train, data.y_train, data.x_test, data.y_test))
    stream = SampleStream(X.shape[0], cfg.seed)
    B = cfg.batch_size
    total_weights = live_weight_count(model)
    seconds = dict(ckpt["phase_seconds"]) if ckpt else {}
    segments = Segments(ckpt.get("segments") if ckpt else None, machine_info(cfg.device))
    snaps = ctx.out_dir / "snapshots"
    main_name = "dense" if cfg.prune == "none" else "sparse"

    def settings(steps):
        return LoopSettings(steps=steps, batch_size=B, log_every=cfg.log_every,
                            eval_every=cfg.eval_every, checkpoint_every=cfg.checkpoint_every)

    used = {}

    def run_phase(phase, steps, model, start, resume_state, hooks=(), extra=None):
        if BoostDecay.wants(model):  # k-winners layers: their boost strength decays once per epoch
            hooks = [*hooks, BoostDecay(max(1, X.shape[0] // B))]
        engine = make_engine(cfg, model, hooks)
        used["engine"] = engine.name
        state = PhaseState(phase)
        if resume_state is not None:
            model.load_state_dict(resume_state["model"])
            engine.load_state_dict(resume_state["optimizer"])
            state.step, state.seconds = resume_state["step"], resume_state["seconds"]
            state.loss_sum, state.loss_steps = resume_state["loss_sum"], resume_state["loss_steps"]
        seconds0, step0 = state.seconds, state.step  # what earlier segments did in this phase

        def checkpoint(st: PhaseState) -> dict:
            return {"phase": phase, "step": st.step, "seconds": st.seconds, "loss_sum": st.loss_sum,
                    "loss_steps": st.loss_steps, "model": model.state_dict(),
                    "optimizer": engine.state_dict(), "phase_seconds": seconds,
                    "segments": segments.records(st.seconds - seconds0, st.step - step0), **(extra or {})}

        state = train_phase(ctx, state, engine, (X, Y), stream, settings=settings(steps),
                            stream_start=start, checkpoint=checkpoint, eval_data=(Xt, Yt))
        seconds[phase] = state.seconds
        segments.add(state.seconds - seconds0, state.step - step0)
        ctx.log({"event": "phase_end", "phase": phase, "seconds": state.seconds})
        m = evaluate(model, Xt, Yt)
        ctx.log({"event": "eval", "phase": phase, "step": state.step, "samples": start + state.step * B,
                 "split": "test", **m})
        return m

    # ---- burn-in ------------------------------------------------------------------------
    burnin_file = ctx.out_dir / "burnin.pt"
    if ckpt is not None and ckpt["phase"] != "burnin":
        model.load_state_dict(io.torch_load(burnin_file)["model"])
    elif cfg.burnin_steps > 0:
        run_phase("burnin", cfg.burnin_steps, model, 0, ckpt)
        ckpt = None
    if not burnin_file.exists():
        w, g = snapshot(model, X, Y, cfg.grad_samples)
        io.save_tensors(snaps / "weights_burnin.safetensors", w)
        io.save_tensors(snaps / "grads_burnin.safetensors", g)
        io.torch_save(burnin_file, {"model": model.state_dict(), "phase_seconds": seconds})
        ctx.save_checkpoint({"phase": "prune", "phase_seconds": seconds, "segments": segments.records()})
    # ---- prune ----------------------------------------------------------------------------
    shrink, execution = {}, None
    if cfg.prune != "none":
        t0 = time.perf_counter()
        masks, rounds = select_masks(model, cfg)
        model, final_masks, shrink = prune_model(model, masks, cfg.remove_unconnected, sparse=False)
        model = model.to(cfg.device)  # units removed: new tensors, same device
        # --execution: masked layers become SparseLinear (csr) or stay dense with mask hooks; a resumed
        # main phase replays the choices its checkpoint (and optimizer state) was saved with.
        recorded = ckpt.get("execution") if ckpt is not None and ckpt["phase"] == main_name else None
        execution = prepare_execution(model, final_masks, cfg.execution, batch_size=B, optimizer=cfg.optimizer,
                                      fused=uses_fused(cfg, model), choices=recorded)
        if "prune" not in seconds:
            seconds["prune"] = time.perf_counter() - t0
            segments.add(seconds["prune"], 0)
            # masks.safetensors matches model.safetensors (after unit removal); the pattern on the
            # burn-in model's shapes is kept next to it when units were removed.
            save_masks(ctx.out_dir / "masks.safetensors", final_masks)
            if any(final_masks[n].shape != m.shape for n, m in masks.items()):
                save_masks(ctx.out_dir / "masks_before_removal.safetensors", masks)
            ctx.log({"event": "prune", "rounds": rounds, "layers": [
                {"name": n, "live": int(m.sum()), "total": m.numel()} for n, m in masks.items()],
                "removed_units": shrink})
            ctx.log({"event": "phase_end", "phase": "prune", "seconds": seconds["prune"]})
    # ---- main phase -----------------------------------------------------------------------
    resume_main = ckpt if ckpt is not None and ckpt["phase"] == main_name else None
    final = run_phase(main_name, cfg.steps, model, cfg.burnin_steps * B, resume_main,
                      hooks=execution.hooks if execution else (),
                      extra={"execution": execution.choices} if execution else None)
    if execution is not None:
        sparsify(model, final_masks)  # layers trained masked take their CSR form: the same artifacts as csr
    w, g = snapshot(model, X, Y, cfg.grad_samples)
    io.save_tensors(snaps / "weights_final.safetensors", w)
    io.save_tensors(snaps / "grads_final.safetensors", g)
    io.save_tensors(ctx.out_dir / "model.safetensors", model.state_dict())
    layers = [{"name": f"{n}.weight", "shape": [l.out_features, l.in_features], "live": stored_weights(l),
               "total": l.out_features * l.in_features} for n, l in stored_layers(model)]
    results = {
        "experiment": "train", "data_seed": data_seed(cfg.dataset, cfg.data_seed),
        "test_accuracy": final["accuracy"], "test_loss": final["loss"],
        "live_weights": live_weight_count(model), "total_weights": total_weights,
        "train_seconds": sum(seconds.values()), "phase_seconds": seconds, "segments": segments.records(),
        "layers": layers,
        "hidden_units": [l.out_features for _, l in stored_layers(model)][:-1],
        "engine": used["engine"], "machine": machine_info(cfg.device),
        "execution": {"mode": cfg.execution, "layers": execution.choices} if execution else None,
        "compile_seconds": _compile_seconds(used["engine"]),
        "final_spec": "-".join(str(s) for s in [layers[0]["shape"][1]] + [l["shape"][0] for l in layers]),
    }
    warning = run_warning("train", accuracy=final["accuracy"], labels=data.y_test,
                          losses=logged_losses(ctx.metrics_path), num_classes=data.num_classes)
    results["warnings"] = [warning] if warning else []
    io.write_json(ctx.out_dir / "results.json", results)
    ctx.remove_checkpoints()
    return results
