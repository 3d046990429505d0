"""`sparsenet lottery`: IMP with rewinding, its controls and supermasks, one artifact per level.

Run directory (every file written atomically; ``result.json`` of an artifact is written last, so
its presence marks the artifact finished and a rerun of the same command skips it)::

    config.json                       the config ("experiment": "lottery")
    seed<S>/init.safetensors          θ0
    seed<S>/rewind.safetensors        θk (late rewinding only), written with level 0
    seed<S>/level<LL>/ticket/         masks.safetensors, weights.safetensors (trained), result.json
    seed<S>/level<LL>/<control>/      the same for reinit / reshuffle / constant / random_mask
    seed<S>/supermask.json            untrained one-shot masks of each criterion (Zhou et al.)
    seed<S>/extras/...                early-bird / edge-popup artifacts (extras.py)
    results.json                      written last: every artifact's numbers + a summary

Level 0 trains the dense net; level L >= 1 prunes the survivors of level L-1 by the criterion of
(θ_rewind, θ_trained(L-1)), rewinds and retrains (`sparsenet.lottery.imp`). Everything is a pure
function of the config and seed (data order from `SampleStream`, controls from seeded
generators), so a killed run resumed from its artifacts ends with the same masks and metrics.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from ... import io
from ...config import config_from_dict, config_to_dict
from ...data import data_seed, load_dataset
from ...errors import ConfigError
from ...lottery.controls import control_start
from ...lottery.double_descent import noisy_labels
from ...lottery.imp import level_counts, prune_level, rewind
from ...lottery.mask_criteria import mask_scores
from ...lottery.supermask import supermask_accuracy, supermask_table
from ...lottery.training import train_masked
from ...masks import full_masks, prunable_names, save_masks
from ...models import build_model
from ...train import RunContext, SampleStream, machine_info
from ...train.progress import line as progress_line
from ...train.runtime import parse_device, runtime
from ...train.health import logged_losses, run_warning
from . import artifacts
from ...rundir import open_run, resolve
from .config import LotteryConfig, train_spec
from ...lottery.summary import summarize

VERSION = "0.1.0"


# A validation split smaller than this, or than this fraction of the training split, is warned about:
# at 500 examples the standard error of an accuracy is up to 50/sqrt(500) = 2.2 points, about
# the size of the differences the early-stopping and learning-speed measures look for.
MIN_VAL = 500
MIN_VAL_FRACTION = 0.05
NO_VAL_NOTE = ("no validation split (--n-val 0): every training example is used, and the validation-based "
               "measures (early-stopping iteration, its test accuracy, best validation accuracy, learning "
               "speed) are not measured")


def validation_notes(n_val: int, n_train: int) -> list[str]:
    """Notes on a validation split of `n_val` examples next to `n_train` training ones (empty when
    it is large enough to mean something)."""
    if n_val == 0:
        return [NO_VAL_NOTE]
    if n_val < MIN_VAL or n_val < MIN_VAL_FRACTION * n_train:
        return [f"the validation split holds only {n_val} examples ({100 * n_val / (n_val + n_train):.1f}% of "
                f"the {n_val + n_train} training examples): its accuracy has a standard error of up to "
                f"{50 / n_val ** 0.5:.1f} points, so the early-stopping and learning-speed measures are "
                f"noisy; use --n-val >= {max(MIN_VAL, int(MIN_VAL_FRACTION * n_train + 0.999))} "
                f"(or 0 to train on all)"]
    return []


class LotteryData:
    """Train / validation / test tensors (flat), with optional label noise on train.

    The validation split is the last `n_val` training examples (None when ``n_val == 0``).
    Generated datasets are made with `sparsenet.data.data_seed` of ``cfg.data_seed`` (mnist1d:
    42, the mnist1d package's default); `info` records it with the split sizes, `notes` says
    when the validation split is missing or too small to mean much.
    """

    def __init__(self, cfg: LotteryConfig):
        seed = data_seed(cfg.dataset, cfg.data_seed)
        ds = load_dataset(cfg.dataset, cfg.data_dir, seed=seed).flat()
        if cfg.n_train or cfg.n_test:
            ds = ds.subset(cfg.n_train, cfg.n_test)
        n = ds.x_train.shape[0]
        if cfg.n_val >= n:
            default = LotteryConfig.n_val
            why = f" (the default {default} is sized for Fashion-MNIST's 60000)" if cfg.n_val == default else ""
            recipe = ", or --config recipes/lottery-mnist1d.toml" if ds.name == "mnist1d" else ""
            raise ConfigError(f"--n-val {cfg.n_val}{why} leaves no training data: {ds.name} has {n} training "
                              f"examples{' after --n-train' if cfg.n_train else ''}; use --n-val < {n} "
                              f"(e.g. --n-val {max(1, n // 8)}) or --n-val 0 to train on all{recipe}")
        y = ds.y_train
        if cfg.label_noise:
            y = noisy_labels(y, ds.num_classes, cfg.label_noise, seed=0)
        cut = n - cfg.n_val
        self.train = (ds.x_train[:cut], y[:cut])
        # clean labels: validation measures the task
        self.val = (ds.x_train[cut:], ds.y_train[cut:]) if cfg.n_val else None
        self.test = (ds.x_test, ds.y_test)
        self.in_features, self.num_classes = ds.in_features, ds.num_classes
        self.info = {"dataset": ds.name, "source": ds.source, "data_seed": seed, "n_train": cut,
                     "n_val": cfg.n_val, "n_test": ds.x_test.shape[0]}
        self.notes = validation_notes(cfg.n_val, cut)


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


def check_feasible(cfg: LotteryConfig, model) -> list[dict[str, int]]:
    """Per-layer live counts of every level; `LevelError` when a level would empty a layer."""
    names = prunable_names(model, include_bias=cfg.include_bias)
    sizes = {n: p.numel() for n, p in model.named_parameters() if n in names}
    return level_counts(sizes, cfg.levels, cfg.rate, cfg.output_rate)


def resolve_run_dir(cfg: LotteryConfig) -> Path:
    return resolve(cfg, "lottery")


def _extra_key(k: str) -> bool:
    """Options of the extras (early-bird, edge-popup, approximation): they never change the IMP
    levels, so a finished run may be continued with other extras."""
    return k.startswith(("eb_", "edge_popup_", "approx_")) or k in ("early_bird", "neuron_vs_weight")


# --------------------------------------------------------------------------------- artifacts
def artifact_done(d: Path) -> bool:
    return (d / "result.json").is_file()


def write_artifact(d: Path, masks, weights, result: dict) -> None:
    save_masks(d / "masks.safetensors", masks)
    io.save_tensors(d / "weights.safetensors", weights)
    io.write_json(d / "result.json", result)  # last: marks the artifact finished


def read_artifact(d: Path, theta0: dict, names: list[str]):
    """(masks, weights, result) of a finished artifact, each file checked (`artifacts`)."""
    return artifacts.read_artifact(d, theta0, names)


def _on_device(device: str, model, data: LotteryData, masks):
    """The model, the three splits (moved once per run, then reused) and the masks on `device`."""
    if torch.device(device).type == "cpu":
        return model, data.train, data.val, data.test, masks
    cache = data.__dict__.setdefault("_on_device", {})
    if device not in cache:
        move = lambda split: None if split is None else tuple(t.to(device) for t in split)  # noqa: E731
        cache[device] = (move(data.train), move(data.val), move(data.test))
    return (model.to(device), *cache[device], {n: m.to(device) for n, m in masks.items()})


def _train_artifact(cfg, d: Path, build, data: LotteryData, stream, start_state, masks, *, level: int,
                    kind: str, seed: int, snapshot_at=None) -> tuple[dict, dict, dict | None]:
    """Train one artifact (ticket or control) and write it; returns (weights, result, snapshot)."""
    model = build()
    untrained = {w: supermask_accuracy(model, start_state, masks, data.test, w)["accuracy"]
                 for w in ("init", "constant")} if level > 0 else {}
    rewind(model, start_state, masks)
    # Only the training runs on --device; states and masks stay on CPU (as read back from disk).
    model, train, val, test, dev_masks = _on_device(cfg.device, model, data, masks)
    ctx = RunContext(d, seed=seed, progress=cfg.progress)
    ctx.truncate_metrics(0)  # an unfinished artifact restarts from its beginning
    t0 = time.perf_counter()
    try:
        out = train_masked(ctx, model, dev_masks, train_spec(cfg), train, val, test, stream,
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
              "val_accuracy": out["val"]["accuracy"] if out["val"] else None,
              "early_stop_step": out["early_stop_step"],
              "early_stop_test_accuracy": out["early_stop_test_accuracy"],
              "untrained_accuracy": untrained, "curve": out["curve"], "execution": out["execution"],
              "train_seconds": round(time.perf_counter() - t0, 3)}
    weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
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
    with torch.random.fork_rng(devices=[]):  # the shapes to check it against; the global RNG is untouched
        theta0 = artifacts.read_init(init_path, build().state_dict())
    stream = SampleStream(data.train[0].shape[0], seed)
    names = list(counts[0])
    rows, prev_masks, prev_weights, rewind_state = [], None, None, None
    for level in range(cfg.levels + 1):
        d = sdir / f"level{level:02d}" / "ticket"
        if artifact_done(d):
            masks, weights, result = read_artifact(d, theta0, names)
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
            rewind_state = artifacts.read_rewind(sdir / "rewind.safetensors", theta0) \
                if cfg.rewind_step > 0 else theta0
        rows.append(result)
        progress_line(cfg.progress, f"[lottery] seed {seed} level {level}/{cfg.levels}: {100 * result['density']:.2f}% "
                                    f"remaining, ticket test accuracy {result['test_accuracy']:.4f}")
        if level >= 1 and level in cfg.eval_levels:
            for kind in cfg.controls:
                cd = sdir / f"level{level:02d}" / kind
                if artifact_done(cd):
                    rows.append(artifacts.read_result(cd))
                    continue
                start, cmasks = control_start(kind, rewind_state, masks, seed=_control_seed(seed, level, kind),
                                              build=build)
                rows.append(_train_artifact(cfg, cd, build, data, stream, start, cmasks, level=level,
                                            kind=kind, seed=seed)[1])
        prev_masks, prev_weights = masks, weights
        if level == 0:
            _supermasks(cfg, sdir, build, data, theta0, weights, counts, seed)
    return {"rows": rows, "supermask": artifacts.read_supermask(sdir / "supermask.json")}


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
    extras = [what for what, on in (("--early-bird", cfg.early_bird), ("--edge-popup-k", cfg.edge_popup_k),
                                    ("--approx-widths", cfg.approx_widths)) if on]
    if extras and torch.device(cfg.device).type != "cpu":
        raise ConfigError(f"{extras[0]} runs on CPU only; drop it or use --device cpu "
                          f"(IMP tickets, controls and supermasks run on {cfg.device})")
    parse_device(cfg.device)  # before a run directory exists: CUDA asked for where there is none
    if mlp_only and not hasattr(model, "sizes"):
        raise ConfigError(f"{mlp_only[0]} needs an MLP (models mlp, lenet300100), not --model {cfg.model}; "
                          "drop it or change the model")
    run_dir = resolve_run_dir(cfg)
    # the extras never change the IMP levels: a run may be continued (--resume) with other extras
    with open_run(run_dir, cfg, "lottery", command=command, may_change=_extra_key) as rd:
        if rd.finished and rd.same:
            return artifacts.read_json_file(
                run_dir / "results.json", "delete it to rebuild it from the finished artifacts, then rerun the same command")
        for note in data.notes:  # after every check: a refused run prints its one error line only
            if note != NO_VAL_NOTE:  # --n-val 0 was asked for: said in the report, not warned about
                print(f"sparsenet: warning: {note}", file=sys.stderr)
        with runtime(cfg.threads, cfg.device):
            results = _run_all(cfg, run_dir, data, build, counts)
        io.write_json(run_dir / "results.json", results)
    return results


def run_warnings(run_dir: Path, rows: list[dict], data: LotteryData) -> list[str]:
    """`run_warning` of every trained ticket and control (from its result and metrics.jsonl)."""
    out = []
    for r in rows:
        where = f"seed{r['seed']}/level{r['level']:02d}/{r['kind']}"
        w = run_warning(f"lottery {where} ({100 * r['density']:.2f}% of weights)", accuracy=r["test_accuracy"],
                        labels=data.test[1], num_classes=data.num_classes,
                        losses=logged_losses(run_dir / where / "metrics.jsonl"))
        if w:
            out.append(w)
    return out


def _run_all(cfg: LotteryConfig, run_dir: Path, data: LotteryData, build, counts) -> dict:
    t0 = time.perf_counter()
    per_seed = {}
    for seed in cfg.seeds:
        per_seed[seed] = run_seed(cfg, run_dir / f"seed{seed}", data, build, seed, counts)
    extras = {}
    if cfg.early_bird or cfg.edge_popup_k or cfg.approx_widths:
        from .extras import run_extras

        extras = run_extras(cfg, run_dir, data, build, counts, per_seed)
    rows = [r for s in per_seed.values() for r in s["rows"]]
    supermask = [dict(r, seed=s) for s, v in per_seed.items() for r in v["supermask"]]
    return {"experiment": "lottery", "config": config_to_dict(cfg), "data": data.info, "notes": data.notes,
            "warnings": run_warnings(run_dir, rows, data),
            "rows": rows, "supermask": supermask, **extras, "summary": summarize(rows, supermask, extras),
            "machine": machine_info(cfg.device), "wall_seconds": round(time.perf_counter() - t0, 3)}


__all__ = ["LotteryData", "artifact_done", "check_feasible", "resolve_run_dir", "run_lottery"]
