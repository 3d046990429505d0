"""One trial of `sparsenet dst`: one method, one seed, in its own directory, resumable.

    trials/<method>-s<seed>/metrics.jsonl     train / eval lines of the one training loop
    trials/<method>-s<seed>/checkpoint.pt     every --checkpoint-every steps (a multiple of ΔT, so it
                                              falls between pattern updates): the pattern and weights
                                              (csr: `sparse_state`; masked: the enforced masks and the
                                              dense state dict), optimizer state, the DST hook's
                                              history, the loop's step, seconds and running loss
    trials/<method>-s<seed>/final.safetensors the live connections at the end, O(nnz): per layer
                                              ``<name>.keys`` (row·n_in + col) and ``<name>.values``,
                                              and the biases
    trials/<method>-s<seed>/result.json       written last: what the report reads

Data order is a position in the seeded `SampleStream`; pattern updates draw from generators seeded by
(seed, step, layer): a trial resumed from its checkpoint ends exactly as an uninterrupted one.
"""
from __future__ import annotations

import resource
import sys
from pathlib import Path

import numpy as np
import torch

from ... import io
from ...dst import DST_METHODS, DSTHook
from ...errors import ConfigError
from ...masks import enforce_masks, enforced_masks
from ...masks.layers import layer_views
from ...nn import SparseLinear
from ...train import LoopSettings, PhaseState, RunContext, SampleStream, TorchEngine, evaluate, make_optimizer, train_phase
from ...train.health import logged_losses, run_warning
from ...train.progress import line as progress_line
from .config import DstConfig
from .plan import RunPlan, build_model, load_stored_state_, log_edges, stored_state, to_masked, weight_memory

PHASE = "train"


def trial_id(method: str, seed: int) -> str:
    return f"{method}-s{seed}"


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def _model(cfg: DstConfig, plan: RunPlan, method: str, seed: int):
    """(model on the device, final nnz per rewired layer for grow-prune)."""
    model = build_model(plan, plan.start_densities(method), cfg.activation, seed)
    final_nnz = None
    if method == "grow-prune":
        same = plan.start_densities(method) == plan.start_densities("static")
        ref = model if same else build_model(plan, plan.start_densities("static"), cfg.activation, seed)
        final_nnz = {f"layers.{i}.weight": l.nnz for i, l in enumerate(ref.layers) if isinstance(l, SparseLinear)}
    return model, final_nnz


def _histogram(model, names: list[str], edges: list[float]) -> dict:
    """Final live |w| per rewired layer on log-spaced `edges` (exact zeros counted apart)."""
    views = layer_views(model)
    counts, zeros = {}, {}
    e = np.asarray(edges)
    for n in names:
        a = views[n].live_values().abs().cpu().double().numpy()
        zeros[n] = int((a == 0).sum())
        a = np.clip(a[a > 0], e[0], e[-1])
        counts[n] = np.histogram(a, bins=e)[0].astype(int).tolist()
    return {"edges": edges, "counts": counts, "zeros": zeros}


def _final_tensors(model) -> dict[str, torch.Tensor]:
    views = layer_views(model)
    out = {}
    for n, v in views.items():
        out[f"{n}.keys"] = v.live_keys().cpu()
        out[f"{n}.values"] = v.live_values().cpu().contiguous()
    for i, layer in enumerate(model.layers):
        if layer.bias is not None:
            out[f"layers.{i}.bias"] = layer.bias.detach().cpu().contiguous()
    return out


def run_trial(cfg: DstConfig, plan: RunPlan, data, method: str, seed: int, trial_dir: Path) -> dict:
    """Run (or finish, or just read) the trial; returns its result.json."""
    result_path = trial_dir / "result.json"
    if result_path.is_file():
        return io.read_json(result_path)
    ctx = RunContext(trial_dir, seed=seed, progress=cfg.progress)
    try:
        ckpt = ctx.load_checkpoint()
        if ckpt is not None and ckpt.get("execution") != cfg.execution:
            raise ConfigError(f"trial {trial_dir} was checkpointed under --execution {ckpt.get('execution')}; "
                              f"resume it with --execution {ckpt.get('execution')} (or delete {trial_dir.name})")
        ctx.truncate_metrics(ckpt["metrics_offset"] if ckpt else 0)
        result = _run(cfg, plan, data, method, seed, ctx, ckpt)
    finally:
        ctx.close()
    io.write_json(result_path, result)
    ctx.remove_checkpoints()
    return result


def _run(cfg: DstConfig, plan: RunPlan, data, method: str, seed: int, ctx: RunContext, ckpt: dict | None) -> dict:
    dev = torch.device(cfg.device)
    masked = cfg.execution == "masked"
    model, final_nnz = _model(cfg, plan, method, seed)
    masks = to_masked(model) if masked else None
    if ckpt is not None:
        if masked:
            masks = ckpt["weights"]["masks"]
        else:
            load_stored_state_(model, ckpt["weights"])
    model = model.to(dev)
    opt = make_optimizer(cfg.optimizer, model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                         weight_decay=cfg.weight_decay)
    if masked:
        enforce_masks(model, {n: m.to(dev) for n, m in masks.items()}, optimizer=opt)
        if ckpt is not None:
            model.load_state_dict(ckpt["weights"]["model"])
    names = [lp.name for lp in plan.sparse]
    grow, prune, end = cfg.grow_steps()
    hook = DSTHook(model, method, zeta=cfg.zeta, delta_t=cfg.delta_t, end_step=end, steps=cfg.steps, seed=seed,
                   drop=cfg.drop, decay=cfg.decay, init=None if cfg.init == "method" else cfg.init, momentum=cfg.snfs_momentum, window=cfg.window,
                   layers=names, trajectory=plan.trajectory if method == "grow-prune" else None,
                   final_nnz=final_nnz)
    engine = TorchEngine(model, opt, hooks=[hook])
    X, Y, Xt, Yt = data.x_train, data.y_train, data.x_test, data.y_test
    state = PhaseState(PHASE)
    views = layer_views(model)
    if ckpt is not None:
        engine.load_state_dict(ckpt["optimizer"])
        hook.load_state_dict(ckpt["hook"])
        state.step, state.seconds = ckpt["step"], ckpt["seconds"]
        state.loss_sum, state.loss_steps = ckpt["loss_sum"], ckpt["loss_steps"]
        initial = ckpt["initial"]
    else:
        initial = {"live": {n: views[n].nnz() for n in names}, "memory": weight_memory(model, masks)}
        ctx.log({"event": "eval", "phase": PHASE, "step": 0, "samples": 0, "split": "test",
                 **evaluate(model, Xt, Yt)})
    if dev.type == "cpu" and not masked:
        from ...kernels.codegen import warm

        warm()  # compile (or load from the cache) before the clock starts

    def checkpoint(st: PhaseState) -> dict:
        return {"execution": cfg.execution, "step": st.step, "seconds": st.seconds, "loss_sum": st.loss_sum,
                "loss_steps": st.loss_steps, "weights": stored_state(model, masked, enforced_masks(model)),
                "optimizer": engine.state_dict(), "hook": hook.state_dict(), "initial": initial}

    settings = LoopSettings(steps=cfg.steps, batch_size=cfg.batch_size, log_every=cfg.delta_t,
                            eval_every=cfg.eval_steps(), checkpoint_every=cfg.checkpoint_steps())
    state = train_phase(ctx, state, engine, (X, Y), SampleStream(X.shape[0], seed), settings=settings,
                        stream_start=0, checkpoint=checkpoint, eval_data=(Xt, Yt))
    hook.remove()
    final = evaluate(model, Xt, Yt)
    ctx.log({"event": "eval", "phase": PHASE, "step": state.step, "samples": state.step * cfg.batch_size,
             "split": "test", **final})
    io.save_tensors(ctx.out_dir / "final.safetensors", _final_tensors(model))
    return _record(cfg, plan, method, seed, ctx, model, masked, hook, state, initial, final, data)


def _record(cfg, plan, method, seed, ctx, model, masked, hook, state, initial, final, data) -> dict:
    names = [lp.name for lp in plan.sparse]
    curve = [{"step": e["step"], "accuracy": e["accuracy"], "loss": e["loss"]}
             for e in _read_evals(ctx.metrics_path)]
    updates = []
    for r in hook.history:
        live = sum(v["live"] for v in r["layers"].values())
        grown = sum(v["grown"] for v in r["layers"].values())
        updates.append({"step": r["step"], "zeta": r["zeta"], "seconds": r["seconds"], "live": live,
                        "grown": grown, "dropped": sum(v["dropped"] for v in r["layers"].values()),
                        "rewired": grown / live if live else 0.0, "layers": r["layers"]})
    live_steps = [0] + [u["step"] for u in updates]
    live = {n: [initial["live"][n]] + [u["layers"][n]["live"] for u in updates] for n in names}
    memory = weight_memory(model, enforced_masks(model) if masked else None)
    losses = logged_losses(ctx.metrics_path)
    warning = run_warning(f"trial {trial_id(method, seed)}", accuracy=final["accuracy"], labels=data.y_test,
                          losses=losses, num_classes=data.num_classes)
    result = {
        "id": trial_id(method, seed), "method": method, "seed": seed, "paper": DST_METHODS.get(method).paper,
        "steps": state.step, "test_accuracy": final["accuracy"], "test_loss": final["loss"], "curve": curve,
        "live": {"steps": live_steps, "layers": live,
                 "final": {n: v[-1] for n, v in live.items()}, "total": sum(v[-1] for v in live.values())},
        "updates": updates,
        "seconds": {"loop": state.seconds, "pattern_updates": hook.update_seconds,
                    "training_steps": state.seconds - hook.update_seconds},
        "weights_hist": _histogram(model, names, log_edges(cfg.hist_bins)),
        "peak_rss_bytes": _peak_rss_bytes(),
        "memory": {"initial": initial["memory"], "final": memory,
                   "dense_bytes": sum(v["dense"] for v in memory.values()),
                   "stored_bytes": sum(v["stored"] for v in memory.values())},
        "execution": cfg.execution, "warning": warning,
    }
    progress_line(cfg.progress, f"[dst] {result['id']}: test accuracy {final['accuracy']:.4f}, "
                                f"{len(updates)} pattern updates ({hook.update_seconds:.2f} s of {state.seconds:.1f} s)")
    return result


def _read_evals(path: Path) -> list[dict]:
    import json

    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            e = json.loads(line)
            if e.get("event") == "eval" and e.get("phase") == PHASE:
                out.append(e)
    return out


__all__ = ["PHASE", "run_trial", "trial_id"]
