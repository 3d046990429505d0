"""Parts of `sparsenet lottery` beyond IMP, each a resumable artifact under seed<S>/extras/:

Each directory name ends in `settings_tag` of the options it depends on.

* early-bird tickets (You et al. 2020, arXiv:1909.11957): ``early_bird_<structure>_<retrain>_<tag>/``
  — dense training checked every ``eb_every`` steps; the drawn mask trained from θ0 for the
  same T steps as an IMP level (``rewind``) or from the weights at the draw up to step T
  (``continue``), compared with the IMP ticket of ``eb_level`` (same seed);
* edge-popup (Ramanujan et al. 2020, arXiv:1911.13299) on frozen random weights, a k sweep per
  init; with ``neuron_vs_weight`` also neuron pruning at the same effective size (Malach et al.
  2020, arXiv:2002.00585): ``edge_popup_<tag>/<init>_<mode>_k<k>/``.

* the approximation demo (Malach et al. 2020): a depth-2 target trained on the data, then
  random depth-4 nets of growing width pruned by edge-popup to match softmax(target):
  ``approx_<tag>/target.safetensors``, ``approx_<tag>/width<n>/``.

Cost accounting for early-bird, in dense-equivalent steps (a step at density d costs d):
EB = draw step + (T or T − draw step)·d_L; IMP to level L = Σ_{l=0..L} T·d_l.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from ... import io
from ...lottery.early_bird import draw_early_bird
from ...lottery.edge_popup import PopupMLP
from ...lottery.imp import rewind
from ...lottery.strong import approximation_error, neuron_fraction_for, soft_targets
from ...lottery.training import TrainSpec, train_masked
from ...masks import save_masks
from ...models import MLP
from ...train import LoopSettings, PhaseState, RunContext, SampleStream, TorchEngine, train_phase
from .config import LotteryConfig, train_spec
from .artifacts import read_extra_result, read_init


EB_KEYS = ("eb_level", "eb_every", "eb_window", "eb_threshold", "eb_neuron_rate")
EP_KEYS = ("edge_popup_steps", "edge_popup_lr")
APPROX_KEYS = ("approx_target_width", "approx_k", "edge_popup_steps", "edge_popup_lr")


def settings_tag(cfg: LotteryConfig, keys: tuple[str, ...]) -> str:
    """6 hex digits naming the settings an extras artifact depends on: extras options may change
    between reruns of a run directory, and an artifact must never be reused for other settings."""
    text = json.dumps({k: getattr(cfg, k) for k in keys}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def _done(d: Path):
    return read_extra_result(d) if (d / "result.json").is_file() else None


def early_bird_row(cfg: LotteryConfig, sdir: Path, data, build, counts, seed: int, structure: str,
                   retrain: str, imp_rows: list[dict], spec: TrainSpec) -> dict:
    d = sdir / "extras" / f"early_bird_{structure}_{retrain}_{settings_tag(cfg, EB_KEYS)}"
    row = _done(d)
    if row is not None:
        return row
    level = cfg.levels if cfg.eb_level is None else cfg.eb_level
    model = build()
    theta0 = read_init(sdir / "init.safetensors", model.state_dict())
    model.load_state_dict(theta0)
    ctx = RunContext(d, seed=seed, progress=cfg.progress)
    ctx.truncate_metrics(0)
    stream = SampleStream(data.train[0].shape[0], seed)
    try:
        eb = draw_early_bird(ctx, model, spec, data.train, stream, every=cfg.eb_every, structure=structure,
                             keep=counts[level], neuron_rate=cfg.eb_neuron_rate, window=cfg.eb_window,
                             threshold=cfg.eb_threshold)
        masks = eb["masks"]
        if retrain == "rewind":  # a lottery ticket: θ0 ⊙ m, the full T steps
            ticket, start = build(), 0
            rewind(ticket, theta0, masks)
        else:  # keep training the pruned net from the draw: T steps in total, as dense
            ticket, start = model, eb["draw_step"]
        out = train_masked(ctx, ticket, masks, spec, data.train, data.val, data.test, stream,
                           start_step=start, phase=f"early-bird-{structure}-{retrain}")
    finally:
        ctx.close()
    live = sum(int(m.sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    density = live / total
    dens = [sum(c.values()) / total for c in counts]
    imp = next((r for r in imp_rows if r["level"] == level and r["kind"] == "ticket"), None)
    sparse_steps = spec.steps - (eb["draw_step"] if retrain == "continue" else 0)
    row = {"seed": seed, "structure": structure, "retrain": retrain, "drawn": eb["drawn"], "draw_step": eb["draw_step"],
           "budget_steps": spec.steps, "draw_fraction": eb["draw_step"] / spec.steps, "density": density,
           "test_accuracy": out["test"]["accuracy"], "imp_level": level,
           "imp_density": dens[level], "imp_test_accuracy": imp["test_accuracy"] if imp else None,
           "eb_cost_steps": eb["draw_step"] + sparse_steps * density,
           "imp_cost_steps": sum(spec.steps * x for x in dens[:level + 1]),
           "threshold": cfg.eb_threshold, "distances": eb["distances"], "execution": out["execution"]}
    row["saved_fraction"] = 1 - row["eb_cost_steps"] / row["imp_cost_steps"] if row["imp_cost_steps"] else 0.0
    save_masks(d / "masks.safetensors", masks)
    io.write_json(d / "result.json", row)
    return row


def edge_popup_row(cfg: LotteryConfig, sdir: Path, data, seed: int, init: str, mode: str, k: float,
                   spec: TrainSpec, sizes: list[int]) -> dict:
    d = sdir / "extras" / f"edge_popup_{settings_tag(cfg, EP_KEYS)}" / f"{init}_{mode}_k{k:g}"
    row = _done(d)
    if row is not None:
        return row
    hidden = 100 * neuron_fraction_for(sizes, k) if mode == "neuron" else None
    net = PopupMLP(sizes, k=k, init=init, seed=seed, mode=mode, hidden_k=hidden)
    ctx = RunContext(d, seed=seed, progress=cfg.progress)
    ctx.truncate_metrics(0)
    try:
        out = train_masked(ctx, net, {}, spec, data.train, data.val, data.test,
                           SampleStream(data.train[0].shape[0], seed), phase=f"edge-popup-{init}-{mode}-k{k:g}")
    finally:
        ctx.close()
    row = {"seed": seed, "init": init, "mode": mode, "k": k, "hidden_k": hidden,
           "effective_params": net.effective_params(),
           "total_params": sum(a * b for a, b in zip(sizes[:-1], sizes[1:])),
           "accuracy": out["test"]["accuracy"], "early_stop_test_accuracy": out["early_stop_test_accuracy"]}
    io.save_tensors(d / "scores.safetensors", {n: p.detach() for n, p in net.named_parameters()})
    io.write_json(d / "result.json", row)
    return row


def approximation_rows(cfg: LotteryConfig, sdir: Path, data, seed: int, spec: TrainSpec,
                       ep_spec: TrainSpec) -> list[dict]:
    d = sdir / "extras" / f"approx_{settings_tag(cfg, APPROX_KEYS)}"
    sizes = [data.in_features, cfg.approx_target_width, data.num_classes]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        target = MLP(sizes, activation="relu")
    tpath = d / "target.safetensors"
    if tpath.is_file():
        target.load_state_dict(io.load_tensors(tpath))
        t_acc = io.read_json(d / "target.json")["test_accuracy"]
    else:
        ctx = RunContext(d, seed=seed, progress=cfg.progress)
        ctx.truncate_metrics(0)
        try:
            out = train_masked(ctx, target, {}, spec, data.train, data.val, data.test,
                               SampleStream(data.train[0].shape[0], seed), phase="approx-target")
        finally:
            ctx.close()
        t_acc = out["test"]["accuracy"]
        io.save_tensors(tpath, target.state_dict())
        io.write_json(d / "target.json", {"sizes": sizes, "test_accuracy": t_acc})
    X, Xt = data.train[0], data.test[0]
    P, Pt = soft_targets(target, X), soft_targets(target, Xt)
    rows = []
    for width in cfg.approx_widths:
        wd = d / f"width{width}"
        row = _done(wd)
        if row is None:
            net = PopupMLP([sizes[0], width, width, width, sizes[-1]], k=cfg.approx_k, init="signed_constant",
                           seed=seed)
            engine = TorchEngine(net, ep_spec.optimizer_for(net.parameters()))
            ctx = RunContext(wd, seed=seed, progress=cfg.progress)
            ctx.truncate_metrics(0)
            try:
                settings = LoopSettings(steps=ep_spec.steps, batch_size=ep_spec.batch_size,
                                        log_every=ep_spec.log_every, eval_every=0, checkpoint_every=0)
                # soft targets: cross_entropy against softmax(f*) minimises KL(f* || f) + const
                train_phase(ctx, PhaseState(f"approx-width{width}"), engine, (X, P),
                            SampleStream(X.shape[0], seed), settings=settings, stream_start=0)
            finally:
                ctx.close()
            row = {"seed": seed, "width": width, "depth": 4, "target_width": cfg.approx_target_width,
                   "k": cfg.approx_k, "target_test_accuracy": t_acc,
                   "random_params": sum(a * b for a, b in zip(net.sizes[:-1], net.sizes[1:])),
                   **approximation_error(net, Pt, Xt)}
            io.write_json(wd / "result.json", row)
        rows.append(row)
    return rows


def run_extras(cfg: LotteryConfig, run_dir: Path, data, build, counts, per_seed: dict) -> dict:
    spec = train_spec(cfg)
    out: dict = {}
    if cfg.early_bird:
        out["early_bird"] = [early_bird_row(cfg, run_dir / f"seed{s}", data, build, counts, s, st, rt,
                                            per_seed[s]["rows"], spec)
                             for s in cfg.seeds for st in cfg.eb_structure for rt in cfg.eb_retrain]
    if cfg.edge_popup_k:
        ep_spec = TrainSpec(steps=cfg.edge_popup_steps or cfg.steps, batch_size=cfg.batch_size,
                            lr=cfg.edge_popup_lr, optimizer="adam", eval_every=cfg.eval_every,
                            log_every=cfg.eval_every)
        sizes = list(build().sizes)
        modes = ("weight", "neuron") if cfg.neuron_vs_weight else ("weight",)
        out["edge_popup"] = [edge_popup_row(cfg, run_dir / f"seed{s}", data, s, init, mode, k, ep_spec, sizes)
                             for s in cfg.seeds for init in cfg.edge_popup_init for mode in modes
                             for k in cfg.edge_popup_k]
    if cfg.approx_widths:
        ep_spec = TrainSpec(steps=cfg.edge_popup_steps or cfg.steps, batch_size=cfg.batch_size,
                            lr=cfg.edge_popup_lr, optimizer="adam", log_every=cfg.eval_every)
        out["approximation"] = [r for s in cfg.seeds
                                for r in approximation_rows(cfg, run_dir / f"seed{s}", data, s, spec, ep_spec)]
    return out


__all__ = ["early_bird_row", "edge_popup_row", "run_extras"]
