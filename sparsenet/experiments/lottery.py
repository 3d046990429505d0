"""`sparsenet lottery`: IMP with rewinding, its controls and supermasks, one artifact per level.

Run directory (every file written atomically; ``result.json`` of an artifact is written last, so
its presence marks the artifact finished and a rerun of the same command skips it)::

    config.json                       the config ("experiment": "lottery")
    seed<S>/init.safetensors          θ0
    seed<S>/rewind.safetensors        θk (late rewinding only), written with level 0
    seed<S>/level<LL>/ticket/         masks.safetensors, weights.safetensors (trained), result.json
    seed<S>/level<LL>/<control>/      the same for reinit / reshuffle / constant / random_mask
    seed<S>/supermask.json            untrained one-shot masks of each criterion (Zhou et al.)
    seed<S>/extras/...                early-bird / edge-popup artifacts (lottery_extras.py)
    results.json                      written last: every artifact's numbers + a summary

Level 0 trains the dense net; level L >= 1 prunes the survivors of level L-1 by the criterion of
(θ_rewind, θ_trained(L-1)), rewinds and retrains (`sparsenet.lottery.imp`). Everything is a pure
function of the config and seed (data order from `SampleStream`, controls from seeded
generators), so a killed run resumed from its artifacts ends with the same masks and metrics.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import torch

from .. import io
from ..config import HASH_EXCLUDE, config_from_dict, config_to_dict, run_name
from ..data import load_dataset
from ..errors import ConfigError, SparsenetError
from ..lottery.controls import control_start
from ..lottery.double_descent import noisy_labels
from ..lottery.imp import level_counts, prune_level, rewind
from ..lottery.mask_criteria import mask_scores
from ..lottery.supermask import supermask_accuracy, supermask_table
from ..lottery.training import TrainSpec, train_masked
from ..masks import full_masks, prunable_names, save_masks
from ..models import build_model
from ..train import RunContext, SampleStream, machine_info
from .lottery_config import LotteryConfig
from .lottery_summary import summarize

VERSION = "0.1.0"
KILL_ENV = "SPARSENET_LOTTERY_KILL_AFTER_LEVEL"  # fault injection for the resume test


class LotteryData:
    """Train / validation / test tensors (flat), with optional label noise on train."""

    def __init__(self, cfg: LotteryConfig):
        ds = load_dataset(cfg.dataset, cfg.data_dir, seed=0).flat()
        if cfg.n_train or cfg.n_test:
            ds = ds.subset(cfg.n_train, cfg.n_test)
        n = ds.x_train.shape[0]
        if cfg.n_val >= n:
            raise ConfigError(f"--n-val {cfg.n_val} leaves no training data ({n} training examples); "
                              f"use --n-val < {n}")
        y = ds.y_train
        if cfg.label_noise:
            y = noisy_labels(y, ds.num_classes, cfg.label_noise, seed=0)
        cut = n - cfg.n_val
        self.train = (ds.x_train[:cut], y[:cut])
        self.val = (ds.x_train[cut:], ds.y_train[cut:])  # clean labels: validation measures the task
        self.test = (ds.x_test, ds.y_test)
        self.in_features, self.num_classes = ds.in_features, ds.num_classes


def builder(cfg: LotteryConfig, data: LotteryData):
    def build():
        return build_model(cfg.model, spec=cfg.spec,
                           activation=cfg.activation, in_features=data.in_features,
                           num_classes=data.num_classes)
    return build


def init_state(build, seed: int) -> dict:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return {k: v.detach().clone() for k, v in build().state_dict().items()}


def train_spec(cfg: LotteryConfig) -> TrainSpec:
    return TrainSpec(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, optimizer=cfg.optimizer,
                     momentum=cfg.momentum, eval_every=cfg.eval_every, log_every=cfg.eval_every)


def check_feasible(cfg: LotteryConfig, model) -> list[dict[str, int]]:
    """Per-layer live counts of every level; `LevelError` when a level would empty a layer."""
    sizes = {n: p.numel() for n, p in model.named_parameters() if n in prunable_names(model)}
    return level_counts(sizes, cfg.levels, cfg.rate, cfg.output_rate)


_NOT_COMPARED = ("progress", "out", "run_dir", "data_dir", "threads", "report")


def resolve_run_dir(cfg: LotteryConfig) -> Path:
    if cfg.run_dir:
        return Path(cfg.run_dir)
    return Path(cfg.out) / run_name("lottery", cfg, exclude=HASH_EXCLUDE + _NOT_COMPARED)


def _extra_key(k: str) -> bool:
    """Options of the extras (early-bird, edge-popup, approximation): they never change the IMP
    levels, so a finished run may be continued with other extras."""
    return k.startswith(("eb_", "edge_popup_", "approx_")) or k in ("early_bird", "neuron_vs_weight")


def _same(old: dict, mine: dict, extras: bool) -> list[str]:
    return [k for k in mine if k not in _NOT_COMPARED and (extras or not _extra_key(k)) and old.get(k) != mine[k]]


def _prepare_dir(cfg: LotteryConfig, run_dir: Path, command: str) -> bool:
    """Write config.json, or check it; True when the run directory holds this exact config."""
    path = run_dir / "config.json"
    mine = config_to_dict(cfg)
    record = {"experiment": "lottery", "config": mine, "version": VERSION, "command": command}
    if path.exists():
        old = io.read_json(path).get("config", {})
        diff = _same(old, mine, extras=False)
        if diff:
            raise SparsenetError(f"cannot continue {run_dir}: its config differs in {', '.join(diff)}; "
                                 f"rerun with the same settings or choose a new --run-dir")
        if not _same(old, mine, extras=True):
            return True
    io.write_json(path, record)
    return False


# --------------------------------------------------------------------------------- artifacts
def artifact_done(d: Path) -> bool:
    return (d / "result.json").is_file()


def write_artifact(d: Path, masks, weights, result: dict) -> None:
    save_masks(d / "masks.safetensors", masks)
    io.save_tensors(d / "weights.safetensors", weights)
    io.write_json(d / "result.json", result)  # last: marks the artifact finished


def read_artifact(d: Path):
    return io.load_tensors(d / "masks.safetensors"), io.load_tensors(d / "weights.safetensors"), \
        io.read_json(d / "result.json")


def _train_artifact(cfg, d: Path, build, data: LotteryData, stream, start_state, masks, *, level: int,
                    kind: str, seed: int, snapshot_at=None) -> tuple[dict, dict, dict | None]:
    """Train one artifact (ticket or control) and write it; returns (weights, result, snapshot)."""
    model = build()
    untrained = {w: supermask_accuracy(model, start_state, masks, data.test, w)["accuracy"]
                 for w in ("init", "constant")} if level > 0 else {}
    rewind(model, start_state, masks)
    ctx = RunContext(d, seed=seed, progress=cfg.progress)
    ctx.truncate_metrics(0)  # an unfinished artifact restarts from its beginning
    t0 = time.perf_counter()
    try:
        out = train_masked(ctx, model, masks, train_spec(cfg), data.train, data.val, data.test, stream,
                           start_step=cfg.rewind_step if level > 0 else 0, snapshot_at=snapshot_at,
                           phase=f"level{level}-{kind}")
    finally:
        ctx.close()
    live = {n: int(m.sum()) for n, m in masks.items()}
    total = {n: m.numel() for n, m in masks.items()}
    result = {"seed": seed, "level": level, "kind": kind, "live": sum(live.values()),
              "total": sum(total.values()), "density": sum(live.values()) / sum(total.values()),
              "layer_density": {n: live[n] / total[n] for n in live},
              "test_accuracy": out["test"]["accuracy"], "test_loss": out["test"]["loss"],
              "val_accuracy": out["val"]["accuracy"], "early_stop_step": out["early_stop_step"],
              "early_stop_test_accuracy": out["early_stop_test_accuracy"],
              "untrained_accuracy": untrained, "curve": out["curve"],
              "train_seconds": round(time.perf_counter() - t0, 3)}
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if out["snapshot"] is not None:
        io.save_tensors(d.parent.parent / "rewind.safetensors", out["snapshot"])
    write_artifact(d, masks, weights, result)
    return weights, result, out["snapshot"]


def _control_seed(seed: int, level: int, kind: str) -> int:
    return 1_000_003 * (seed + 1) + 1009 * level + ("reinit", "reshuffle", "constant", "random_mask").index(kind)


def run_seed(cfg: LotteryConfig, sdir: Path, data: LotteryData, build, seed: int, counts) -> dict:
    """Every level (and control) of one seed; finished artifacts are read back, not redone."""
    sdir.mkdir(parents=True, exist_ok=True)
    init_path = sdir / "init.safetensors"
    if not init_path.exists():
        io.save_tensors(init_path, init_state(build, seed))
    theta0 = io.load_tensors(init_path)
    stream = SampleStream(data.train[0].shape[0], seed)
    names = list(counts[0])
    rows, prev_masks, prev_weights, rewind_state = [], None, None, None
    kill_after = os.environ.get(KILL_ENV)
    for level in range(cfg.levels + 1):
        d = sdir / f"level{level:02d}" / "ticket"
        if artifact_done(d):
            masks, weights, result = read_artifact(d)
            masks = {n: masks[n] for n in names}
        else:
            if level == 0:
                masks, start = full_masks(build(), names), theta0
            else:
                scores = mask_scores(cfg.criterion, rewind_state, prev_weights, names, seed=seed * 7919 + level)
                masks = prune_level(scores, prev_masks, cfg.rate, cfg.output_rate, cfg.scope)
                start = rewind_state
            weights, result, _ = _train_artifact(
                cfg, d, build, data, stream, start, masks, level=level, kind="ticket", seed=seed,
                snapshot_at=cfg.rewind_step if level == 0 and cfg.rewind_step > 0 else None)
        if level == 0:
            rewind_state = io.load_tensors(sdir / "rewind.safetensors") if cfg.rewind_step > 0 else theta0
        rows.append(result)
        if level >= 1 and level in cfg.eval_levels:
            for kind in cfg.controls:
                cd = sdir / f"level{level:02d}" / kind
                if artifact_done(cd):
                    rows.append(io.read_json(cd / "result.json"))
                    continue
                start, cmasks = control_start(kind, rewind_state, masks, seed=_control_seed(seed, level, kind),
                                              build=build)
                rows.append(_train_artifact(cfg, cd, build, data, stream, start, cmasks, level=level,
                                            kind=kind, seed=seed)[1])
        prev_masks, prev_weights = masks, weights
        if level == 0:
            _supermasks(cfg, sdir, build, data, theta0, weights, counts, seed)
        if kill_after is not None and int(kill_after) == level:
            os.kill(os.getpid(), signal.SIGKILL)
    return {"rows": rows, "supermask": io.read_json(sdir / "supermask.json")}


def _supermasks(cfg, sdir: Path, build, data, theta0, dense_weights, counts, seed: int) -> None:
    path = sdir / "supermask.json"
    if path.exists() or not cfg.supermask_criteria:
        if not path.exists():
            io.write_json(path, [])
        return
    keep = {f"level{lv}": counts[lv] for lv in cfg.eval_levels}
    rows = supermask_table(build, theta0, dense_weights, keep, list(cfg.supermask_criteria), data.test, seed=seed)
    io.write_json(path, rows)


def run_lottery(cfg: LotteryConfig, *, command: str | None = None) -> dict:
    """Run (or continue) a lottery experiment; returns the dict also written to results.json."""
    cfg = config_from_dict(LotteryConfig, config_to_dict(cfg))  # validate a directly built config
    command = command or "sparsenet " + " ".join(sys.argv[1:])
    data = LotteryData(cfg)
    build = builder(cfg, data)
    model = build()
    counts = check_feasible(cfg, model)
    mlp_only = [what for what, on in (("--edge-popup-k", cfg.edge_popup_k), ("--approx-widths", cfg.approx_widths),
                                      ("--eb-structure neuron", cfg.early_bird and "neuron" in cfg.eb_structure))
                if on]
    if mlp_only and not hasattr(model, "sizes"):
        raise ConfigError(f"{mlp_only[0]} needs an MLP (models mlp, lenet300100), not --model {cfg.model}; "
                          "drop it or change the model")
    run_dir = resolve_run_dir(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    same = _prepare_dir(cfg, run_dir, command)  # a differing config is a one-line error
    if same and (run_dir / "results.json").exists():
        return io.read_json(run_dir / "results.json")
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        results = _run_all(cfg, run_dir, data, build, counts)
    finally:
        torch.set_num_threads(threads)
    io.write_json(run_dir / "results.json", results)
    return results


def _run_all(cfg: LotteryConfig, run_dir: Path, data: LotteryData, build, counts) -> dict:
    t0 = time.perf_counter()
    per_seed = {}
    for seed in cfg.seeds:
        per_seed[seed] = run_seed(cfg, run_dir / f"seed{seed}", data, build, seed, counts)
    extras = {}
    if cfg.early_bird or cfg.edge_popup_k or cfg.approx_widths:
        from .lottery_extras import run_extras

        extras = run_extras(cfg, run_dir, data, build, counts, per_seed)
    rows = [r for s in per_seed.values() for r in s["rows"]]
    supermask = [dict(r, seed=s) for s, v in per_seed.items() for r in v["supermask"]]
    return {"experiment": "lottery", "config": config_to_dict(cfg), "rows": rows,
            "supermask": supermask, **extras, "summary": summarize(rows, supermask, extras),
            "machine": machine_info(), "wall_seconds": round(time.perf_counter() - t0, 3)}


__all__ = ["KILL_ENV", "LotteryData", "artifact_done", "check_feasible", "resolve_run_dir", "run_lottery"]
