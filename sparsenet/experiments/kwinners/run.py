"""`sparsenet reproduce kwinners`: the robustness claim of k-winners-take-all sparse nets on Fashion-MNIST.

Paper: S. Ahmad, L. Scheinkman, "How Can We Be So Dense? The Benefits of Using Highly Sparse
Representations", 2019, arXiv:1903.11257: a net of sparse weights and k-WTA activations reaches the
dense net's clean accuracy and is more robust to input noise (a higher "noise score").

For each seed, two models (`nets.py`) of the same width train with the one loop
(`sparsenet.train.train_phase`, `TorchEngine`), the same optimizer (`make_optimizer("sgd", lr,
momentum)`), batch, steps and sample stream; the sparse net's boost strength decays once per epoch
(`nets.BoostDecay`). Each is then tested clean and at every noise level (`noise.py`).

Run directory:

    trials/<model>-s<seed>/   metrics.jsonl of the loop, result.json when the trial is done
    results.json              every trial, the mean ± std table, the noise scores and the claim check
    report.md, accuracy_vs_noise.png (`sparsenet.report.kwinners_report`)

``--resume``: finished trials (result.json with the same settings) are read back, the rest rerun.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from ... import io
from ...config import config_hash, config_to_dict
from ...errors import DivergenceError
from ...rundir import command_line, open_run, resolve
from ...train import machine_info
from ...train.runtime import runtime
from .config import MODELS, QUICK, KWinnersConfig
from .nets import BoostDecay, build, stored_weights
from .noise import noise_correct, noise_score

# Settings a finished trial depends on (a trial is rerun on --resume when one of them changed).
TRIAL_KEYS = ("dataset", "hidden", "density", "percent_on", "boost_strength", "boost_strength_factor",
              "k_inference_factor", "epochs", "batch_size", "lr", "momentum", "noise_levels", "noise_seed",
              "train_samples", "test_samples")


def effective(cfg: KWinnersConfig) -> KWinnersConfig:
    """--quick replaces each of `QUICK`'s settings left at its default, and keeps the first seed."""
    if not cfg.quick:
        return cfg
    default = KWinnersConfig()
    changes = {k: v for k, v in QUICK.items() if getattr(cfg, k) == getattr(default, k)}
    if cfg.seeds == default.seeds:
        changes["seeds"] = cfg.seeds[:1]
    return replace(cfg, **changes)


def resolve_run_dir(cfg: KWinnersConfig) -> Path:
    """--run-dir, else OUT/kwinners (defaults), OUT/kwinners-quick (--quick), or with a hash."""
    return resolve(cfg, "kwinners", tags=("quick",), bare_default=True)


def trial_id(model: str, seed: int) -> str:
    return f"{model}-s{seed}"


def run_kwinners(cfg: KWinnersConfig) -> dict:
    with runtime(cfg.threads, "cpu", cfg.seeds[0]):
        return _run(cfg)


def _load(eff: KWinnersConfig):
    from ...data import load_dataset

    ds = load_dataset(eff.dataset, eff.data_dir, seed=eff.seeds[0]).flat()
    n_train = eff.train_samples if 0 < eff.train_samples < len(ds.x_train) else None
    n_test = eff.test_samples if 0 < eff.test_samples < len(ds.x_test) else None
    return ds.subset(n_train, n_test) if n_train or n_test else ds


def _run(cfg: KWinnersConfig) -> dict:
    eff = effective(cfg)
    data = _load(eff)  # a missing dataset fails before the run directory is made
    with open_run(resolve_run_dir(cfg), cfg, "kwinners", may_change=lambda key: True,
                  record={"effective": config_to_dict(eff)}) as rd:
        return _run_trials(cfg, eff, data, rd.path)


def _trial_settings(eff: KWinnersConfig) -> dict:
    d = config_to_dict(eff)
    return {k: d[k] for k in TRIAL_KEYS}


def _read_done(path: Path, settings: dict) -> dict | None:
    try:
        saved = io.read_json(path)
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return saved if isinstance(saved, dict) and saved.get("settings") == settings else None


def run_trial(eff: KWinnersConfig, data, model_name: str, seed: int, out: Path, input_range) -> dict:
    """Train one model from `seed`; write ``out/metrics.jsonl`` (the loop's) and return its result."""
    from ...train import LoopSettings, PhaseState, RunContext, SampleStream, TorchEngine, make_optimizer, train_phase

    x, y = data.x_train, data.y_train
    model = build(model_name, data.in_features, eff.hidden, data.num_classes, seed, density=eff.density,
                  percent_on=eff.percent_on, boost_strength=eff.boost_strength,
                  boost_strength_factor=eff.boost_strength_factor, k_inference_factor=eff.k_inference_factor)
    optimizer = make_optimizer("sgd", model.parameters(), lr=eff.lr, momentum=eff.momentum)
    per_epoch = max(1, len(x) // eff.batch_size)
    settings = LoopSettings(steps=eff.epochs * per_epoch, batch_size=eff.batch_size, log_every=per_epoch,
                            eval_every=0, checkpoint_every=0)
    ctx = RunContext(out, seed=seed, progress=False)
    ctx.truncate_metrics(0)
    boost = BoostDecay(per_epoch)
    diverged = None
    try:
        state = train_phase(ctx, PhaseState(trial_id(model_name, seed)), TorchEngine(model, optimizer), (x, y),
                            SampleStream(len(x), seed), settings=settings, stream_start=0, hooks=[boost])
        seconds = state.seconds
    except DivergenceError as e:  # a diverged model is a result, not the end of the run
        diverged, seconds = str(e), float("nan")
    finally:
        ctx.close()
    lo, hi = input_range
    correct = noise_correct(model, data.x_test, data.y_test, eff.noise_levels, eff.noise_seed, lo, hi)
    n = len(data.x_test)
    return {"model": model_name, "seed": seed, "stored_weights": stored_weights(model), "steps": settings.steps,
            "train_seconds": seconds, "boost_decays": boost.epochs_done, "test_samples": n,
            "correct": correct, "accuracy": {k: v / n for k, v in correct.items()},
            "noise_score": noise_score(correct), "diverged": diverged}


def _run_trials(cfg: KWinnersConfig, eff: KWinnersConfig, data, out: Path) -> dict:
    from ...report.kwinners_report import check_claim, summarize, write_kwinners_report

    settings = _trial_settings(eff)
    input_range = (float(data.x_train.min()), float(data.x_train.max()))
    todo = [(m, s) for s in eff.seeds for m in MODELS]
    trials, skipped = [], 0
    for i, (m, s) in enumerate(todo, 1):
        path = out / "trials" / trial_id(m, s) / "result.json"
        saved = _read_done(path, settings) if eff.resume else None
        if saved is not None:
            trials.append(saved["result"])
            skipped += 1
            continue
        print(f"[kwinners] {i}/{len(todo)} {m} seed {s} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        r = run_trial(eff, data, m, s, path.parent, input_range)
        io.write_json(path, {"settings": settings, "seconds": time.perf_counter() - t0, "result": r})
        print(f"[kwinners] {m} seed {s}: clean accuracy {r['accuracy']['0']:.4f}, noise score {r['noise_score']}, "
              f"{r['train_seconds']:.1f} s", file=sys.stderr, flush=True)
        trials.append(r)
    if skipped:
        print(f"[kwinners] {skipped} finished trial(s) reused", file=sys.stderr, flush=True)
    summary = summarize(trials)
    results = {"experiment": "kwinners", "quick": cfg.quick, "dataset": eff.dataset,
               "train_samples": len(data.x_train), "test_samples": len(data.x_test), "input_range": list(input_range),
               "settings": settings, "models": list(MODELS), "noise_levels": list(eff.noise_levels),
               "seeds": list(eff.seeds), "machine": machine_info("cpu"), "command": command_line(),
               "config_hash": config_hash(eff), "skipped_trials": skipped, "trials": trials, "summary": summary,
               "claim": check_claim(summary)}
    io.write_json(out / "results.json", results)
    write_kwinners_report(out, results)
    return results


__all__ = ["KWinnersConfig", "TRIAL_KEYS", "effective", "resolve_run_dir", "run_kwinners", "run_trial", "trial_id"]
