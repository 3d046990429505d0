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

from pathlib import Path

from ... import io
from ...config import config_hash, config_to_dict
from ...rundir import command_line, open_run, resolve
from ...train import machine_info
from ...train.runtime import runtime
from ..trials import load_flat, quick_config, run_trials, train_classifier, trial_settings
from .config import MODELS, QUICK, KWinnersConfig
from .nets import BoostDecay, build, stored_weights
from .noise import noise_correct, noise_score

# Settings a finished trial depends on (a trial is rerun on --resume when one of them changed).
TRIAL_KEYS = ("dataset", "hidden", "density", "percent_on", "boost_strength", "boost_strength_factor",
              "k_inference_factor", "epochs", "batch_size", "lr", "momentum", "noise_levels", "noise_seed",
              "train_samples", "test_samples")


def effective(cfg: KWinnersConfig) -> KWinnersConfig:
    """--quick replaces each of `QUICK`'s settings left at its default, and keeps the first seed."""
    return quick_config(cfg, QUICK)


def resolve_run_dir(cfg: KWinnersConfig) -> Path:
    """--run-dir, else OUT/kwinners (defaults), OUT/kwinners-quick (--quick), or with a hash."""
    return resolve(cfg, "kwinners", tags=("quick",), bare_default=True)


def trial_id(model: str, seed: int) -> str:
    return f"{model}-s{seed}"


def run_kwinners(cfg: KWinnersConfig) -> dict:
    with runtime(cfg.threads, "cpu", cfg.seeds[0]):
        return _run(cfg)


def _run(cfg: KWinnersConfig) -> dict:
    eff = effective(cfg)
    data = load_flat(eff)[0]  # a missing dataset fails before the run directory is made
    with open_run(resolve_run_dir(cfg), cfg, "kwinners", may_change=lambda key: True,
                  record={"effective": config_to_dict(eff)}) as rd:
        return _run_trials(cfg, eff, data, rd.path)


def run_trial(eff: KWinnersConfig, data, model_name: str, seed: int, out: Path, input_range) -> dict:
    """Train one model from `seed`; write ``out/metrics.jsonl`` (the loop's) and return its result."""
    model = build(model_name, data.in_features, eff.hidden, data.num_classes, seed, density=eff.density,
                  percent_on=eff.percent_on, boost_strength=eff.boost_strength,
                  boost_strength_factor=eff.boost_strength_factor, k_inference_factor=eff.k_inference_factor)
    per_epoch = max(1, len(data.x_train) // eff.batch_size)
    boost = BoostDecay(per_epoch)
    seconds, diverged, steps = train_classifier(model, data, eff, out, trial_id(model_name, seed), seed, hooks=[boost])
    lo, hi = input_range
    correct = noise_correct(model, data.x_test, data.y_test, eff.noise_levels, eff.noise_seed, lo, hi)
    n = len(data.x_test)
    return {"model": model_name, "seed": seed, "stored_weights": stored_weights(model), "steps": steps,
            "train_seconds": seconds, "boost_decays": boost.epochs_done, "test_samples": n,
            "correct": correct, "accuracy": {k: v / n for k, v in correct.items()},
            "noise_score": noise_score(correct), "diverged": diverged}


def _run_trials(cfg: KWinnersConfig, eff: KWinnersConfig, data, out: Path) -> dict:
    from ...report.kwinners_report import check_claim, summarize, write_kwinners_report

    settings = trial_settings(eff, TRIAL_KEYS)
    input_range = (float(data.x_train.min()), float(data.x_train.max()))
    todo = [(m, s) for s in eff.seeds for m in MODELS]
    trials, skipped = run_trials(
        "kwinners", todo, out, settings, eff.resume, trial_id,
        lambda m, s, d: run_trial(eff, data, m, s, d, input_range),
        lambda r: f"clean accuracy {r['accuracy']['0']:.4f}, noise score {r['noise_score']}, "
                  f"{r['train_seconds']:.1f} s")
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
