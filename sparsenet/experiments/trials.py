"""What the small reproductions (hashednets, low-rank, kwinners) share: a grid of trials, each trained
by the one loop in its own directory and skipped on ``--resume`` when its result.json holds the same
settings.

    trials/<trial id>/metrics.jsonl   the loop's lines
    trials/<trial id>/result.json     {"settings", "seconds", "result"}, written last
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .. import io
from ..config import config_to_dict
from ..errors import DivergenceError


def quick_config(cfg, quick: dict):
    """--quick replaces each of `quick`'s settings left at its default, and keeps the first seed."""
    if not cfg.quick:
        return cfg
    default = type(cfg)()
    changes = {k: v for k, v in quick.items() if getattr(cfg, k) == getattr(default, k)}
    if cfg.seeds == default.seeds:
        changes["seeds"] = cfg.seeds[:1]
    return replace(cfg, **changes)


def load_flat(eff):
    """(the dataset flattened to (N, features) and cut to --train-samples / --test-samples, its input shape)."""
    from ..data import load_dataset

    ds = load_dataset(eff.dataset, eff.data_dir, seed=eff.seeds[0])
    shape = ds.input_shape
    ds = ds.flat()
    n_train = eff.train_samples if 0 < eff.train_samples < len(ds.x_train) else None
    n_test = eff.test_samples if 0 < eff.test_samples < len(ds.x_test) else None
    return (ds.subset(n_train, n_test) if n_train or n_test else ds), shape


def trial_settings(eff, keys: Sequence[str]) -> dict:
    d = config_to_dict(eff)
    return {k: d[k] for k in keys}


def read_done(path: Path, settings: dict) -> dict | None:
    """A finished trial's record when it was made with `settings`, else None."""
    try:
        saved = io.read_json(path)
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return saved if isinstance(saved, dict) and saved.get("settings") == settings else None


def train_classifier(model, data, eff, out: Path, phase: str, seed: int, hooks=()) -> tuple[float, str | None, int]:
    """Train `model` on ``data.x_train`` for --epochs with SGD (--lr, --momentum), --batch-size, the
    seed's sample stream; the loop writes ``out/metrics.jsonl``. Returns (training seconds, the
    divergence message or None, steps): a diverged trial is a result, not the end of the sweep."""
    from ..train import LoopSettings, PhaseState, RunContext, SampleStream, TorchEngine, make_optimizer, train_phase

    x, y = data.x_train, data.y_train
    optimizer = make_optimizer("sgd", model.parameters(), lr=eff.lr, momentum=eff.momentum)
    per_epoch = max(1, len(x) // eff.batch_size)
    settings = LoopSettings(steps=eff.epochs * per_epoch, batch_size=eff.batch_size, log_every=per_epoch,
                            eval_every=0, checkpoint_every=0)
    ctx = RunContext(out, seed=seed, progress=False)
    ctx.truncate_metrics(0)
    try:
        state = train_phase(ctx, PhaseState(phase), TorchEngine(model, optimizer), (x, y), SampleStream(len(x), seed),
                            settings=settings, stream_start=0, hooks=list(hooks))
        return state.seconds, None, settings.steps
    except DivergenceError as e:
        return float("nan"), str(e), settings.steps
    finally:
        ctx.close()


def run_trials(tag: str, todo: Iterable, out: Path, settings: dict, resume: bool, trial_id: Callable[..., str],
               run_one: Callable[..., dict], describe: Callable[..., str]) -> tuple[list[dict], int]:
    """Run (or, with `resume`, read back) every trial of `todo` (tuples of `trial_id`'s arguments);
    ``run_one(*item, trial_dir)`` trains one and returns its result; progress lines on stderr,
    prefixed ``[tag]``. Returns (results in `todo` order, trials read back)."""
    todo = list(todo)
    trials, skipped = [], 0
    for i, item in enumerate(todo, 1):
        name = trial_id(*item)
        path = out / "trials" / name / "result.json"
        saved = read_done(path, settings) if resume else None
        if saved is not None:
            trials.append(saved["result"])
            skipped += 1
            continue
        print(f"[{tag}] {i}/{len(todo)} {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        r = run_one(*item, path.parent)
        io.write_json(path, {"settings": settings, "seconds": time.perf_counter() - t0, "result": r})
        print(f"[{tag}] {name}: {describe(r)}", file=sys.stderr, flush=True)
        trials.append(r)
    if skipped:
        print(f"[{tag}] {skipped} finished trial(s) reused", file=sys.stderr, flush=True)
    return trials, skipped


__all__ = ["load_flat", "quick_config", "read_done", "run_trials", "train_classifier", "trial_settings"]
