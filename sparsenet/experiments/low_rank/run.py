"""`sparsenet reproduce low-rank`: accuracy vs the fraction of the first layer's weights predicted.

Paper: M. Denil, B. Shakibi, L. Dinh, M. Ranzato, N. de Freitas, "Predicting Parameters in Deep
Learning", NeurIPS 2013 (arXiv:1306.0543): a layer's weights W^T = U V with U a fixed dictionary
and only V learned; predicting 75% or more of a layer's parameters costs little accuracy.

For each dictionary (se, gaussian, dct, pca), fraction f and seed: an in-H-classes ReLU MLP whose
first layer is `LowRankLinear` with rank = max(1, round((1 - f) in)) (`nets.py`); the reference is
dense in-H-classes per seed. All train with the one loop (`train_phase`, `TorchEngine`), the same
optimizer (`make_optimizer("sgd", lr, momentum)`), batch, steps and sample stream. The pca
dictionary is the top principal directions of `pca_samples` training inputs (drawn with seed 0).

Run directory:

    trials/<dictionary>-f<f>-s<seed>/, trials/dense-s<seed>/   metrics.jsonl, result.json when done
    results.json                       every trial, the mean ± std table and the claim check
    report.md, accuracy_vs_fraction.png (`sparsenet.report.low_rank_report`)

``--resume``: finished trials (result.json with the same settings) are read back, the rest rerun.
"""
from __future__ import annotations

from pathlib import Path

from ... import io
from ...config import config_hash, config_to_dict
from ...rundir import command_line, open_run, resolve
from ...train import machine_info
from ...train.runtime import runtime
from ..trials import load_flat, quick_config, run_trials, train_classifier, trial_settings
from .config import FULL_FRACTIONS, QUICK, LowRankConfig
from .nets import build, pca_sample, rank_for_fraction

# Settings a finished trial depends on (a trial is rerun on --resume when one of them changed).
TRIAL_KEYS = ("dataset", "hidden", "pca_samples", "epochs", "batch_size", "lr", "momentum", "train_samples",
              "test_samples")


def effective(cfg: LowRankConfig) -> LowRankConfig:
    """--quick replaces each of `QUICK`'s settings left at its default, and keeps the first seed."""
    return quick_config(cfg, QUICK)


def resolve_run_dir(cfg: LowRankConfig) -> Path:
    """--run-dir, else OUT/low-rank (defaults), OUT/low-rank-quick (--quick), or with a hash."""
    return resolve(cfg, "low-rank", tags=("quick",), bare_default=True)


def trial_id(dictionary: str | None, fraction: float | None, seed: int) -> str:
    return f"dense-s{seed}" if dictionary is None else f"{dictionary}-f{fraction:.6g}-s{seed}"


def run_low_rank(cfg: LowRankConfig) -> dict:
    with runtime(cfg.threads, "cpu", cfg.seeds[0]):
        return _run(cfg)


def _run(cfg: LowRankConfig) -> dict:
    eff = effective(cfg)
    data, shape = load_flat(eff)  # a missing dataset fails before the run directory is made
    with open_run(resolve_run_dir(cfg), cfg, "low-rank", may_change=lambda key: True,
                  record={"effective": config_to_dict(eff)}) as rd:
        return _run_trials(cfg, eff, data, shape, rd.path)


def run_trial(eff: LowRankConfig, data, shape, dictionary: str | None, fraction: float | None, seed: int,
              out: Path, pca_data=None) -> dict:
    """Train one net from `seed`; write ``out/metrics.jsonl`` (the loop's) and return its result."""
    from ...train import evaluate

    n_in = data.in_features
    rank = n_in if dictionary is None else rank_for_fraction(n_in, fraction)
    model = build(dictionary, n_in, eff.hidden, data.num_classes, rank, seed, input_shape=shape, pca_data=pca_data)
    seconds, diverged, steps = train_classifier(model, data, eff, out, trial_id(dictionary, fraction, seed), seed)
    test = evaluate(model, data.x_test, data.y_test)
    first = model.layers[0]
    learned = first.weight.numel() if dictionary is None else first.learned_parameters
    achieved = 0.0 if dictionary is None else first.fraction_predicted
    return {"dictionary": dictionary or "dense", "fraction": fraction, "seed": seed, "rank": rank,
            "fraction_predicted": achieved, "first_layer_learned_weights": learned,
            "shape": f"{n_in}-{eff.hidden}-{data.num_classes}", "steps": steps, "train_seconds": seconds,
            "test_accuracy": test["accuracy"], "test_loss": test["loss"], "diverged": diverged}


def _run_trials(cfg: LowRankConfig, eff: LowRankConfig, data, shape, out: Path) -> dict:
    from ...report.low_rank_report import check_claim, summarize, write_low_rank_report

    settings = trial_settings(eff, TRIAL_KEYS)
    pca_data = pca_sample(data.x_train, eff.pca_samples) if "pca" in eff.dictionaries else None
    todo = [(None, None, s) for s in eff.seeds]
    todo += [(d, f, s) for d in eff.dictionaries for f in eff.fractions for s in eff.seeds]
    trials, skipped = run_trials(
        "low-rank", todo, out, settings, eff.resume, trial_id,
        lambda d, f, s, t: run_trial(eff, data, shape, d, f, s, t, pca_data if d == "pca" else None),
        lambda r: f"rank {r['rank']}, test accuracy {r['test_accuracy']:.4f}, {r['train_seconds']:.1f} s")
    summary = summarize(trials)
    results = {"experiment": "low-rank", "quick": cfg.quick, "dataset": eff.dataset, "input_shape": list(shape),
               "train_samples": len(data.x_train), "test_samples": len(data.x_test),
               "pca_samples": 0 if pca_data is None else len(pca_data), "settings": settings,
               "dictionaries": list(eff.dictionaries), "fractions": list(eff.fractions), "seeds": list(eff.seeds),
               "full_fractions": list(FULL_FRACTIONS), "machine": machine_info("cpu"), "command": command_line(),
               "config_hash": config_hash(eff), "skipped_trials": skipped, "trials": trials, "summary": summary,
               "claim": check_claim(summary)}
    io.write_json(out / "results.json", results)
    write_low_rank_report(out, results)
    return results


__all__ = ["LowRankConfig", "TRIAL_KEYS", "effective", "resolve_run_dir", "run_low_rank", "run_trial", "trial_id"]
