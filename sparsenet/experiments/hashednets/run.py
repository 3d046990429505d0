"""`sparsenet reproduce hashednets`: the equal-storage comparison of HashedNets on Fashion-MNIST.

Paper: W. Chen, J. T. Wilson, S. Tyree, K. Q. Weinberger, Y. Chen, "Compressing Neural Networks with
the Hashing Trick", ICML 2015, arXiv:1504.04788 (its Table 1 / Figure 2: at equal stored weights a
hashed in-1000-10 net beats a narrower dense net, more so the stronger the compression).

For each compression c and seed, three contenders (`nets.py`) store the same number of weights:
hashed in-H-classes, the widest dense in-h-classes within that storage, random sparse in-H-classes.
All train with the one loop (`sparsenet.train.train_phase`, `TorchEngine`), the same optimizer
(`make_optimizer("sgd", lr, momentum)`), batch and number of steps, on the same sample stream.

Run directory:

    trials/c<c>-<contender>-s<seed>/   metrics.jsonl of the loop, result.json when the trial is done
    results.json                       every trial, the mean ± std table and the claim check
    report.md, accuracy_vs_storage.png (`sparsenet.report.hashednets_report`)

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
from .config import CONTENDERS, FULL_COMPRESSIONS, QUICK, HashedNetsConfig
from .nets import build, storage, stored_weights

# Settings a finished trial depends on (a trial is rerun on --resume when one of them changed).
TRIAL_KEYS = ("dataset", "hidden", "epochs", "batch_size", "lr", "momentum", "train_samples", "test_samples")


def effective(cfg: HashedNetsConfig) -> HashedNetsConfig:
    """--quick replaces each of `QUICK`'s settings left at its default, and keeps the first seed."""
    return quick_config(cfg, QUICK)


def resolve_run_dir(cfg: HashedNetsConfig) -> Path:
    """--run-dir, else OUT/hashednets (defaults), OUT/hashednets-quick (--quick), or with a hash."""
    return resolve(cfg, "hashednets", tags=("quick",), bare_default=True)


def trial_id(compression: float, contender: str, seed: int) -> str:
    return f"c{compression:.6g}-{contender}-s{seed}"


def run_hashednets(cfg: HashedNetsConfig) -> dict:
    with runtime(cfg.threads, "cpu", cfg.seeds[0]):
        return _run(cfg)


def _run(cfg: HashedNetsConfig) -> dict:
    eff = effective(cfg)
    data = load_flat(eff)[0]  # a missing dataset fails before the run directory is made
    # every trial records the settings it depends on, so any setting may change on --resume
    with open_run(resolve_run_dir(cfg), cfg, "hashednets", may_change=lambda key: True,
                  record={"effective": config_to_dict(eff)}) as rd:
        return _run_trials(cfg, eff, data, rd.path)


def run_trial(eff: HashedNetsConfig, data, compression: float, contender: str, seed: int, out: Path) -> dict:
    """Train one contender from `seed`; write ``out/metrics.jsonl`` (the loop's) and return its result."""
    from ...train import evaluate

    model = build(contender, data.in_features, eff.hidden, data.num_classes, compression, seed)
    seconds, diverged, steps = train_classifier(model, data, eff, out, trial_id(compression, contender, seed), seed)
    test = evaluate(model, data.x_test, data.y_test)
    size = storage(contender, data.in_features, eff.hidden, data.num_classes, compression)
    if stored_weights(model) != size["stored_weights"]:
        raise AssertionError(f"{contender}: built {stored_weights(model)} stored weights, planned {size['stored_weights']}")
    return {"compression": compression, "contender": contender, "seed": seed, **size,
            "steps": steps, "train_seconds": seconds, "test_accuracy": test["accuracy"],
            "test_loss": test["loss"], "diverged": diverged}


def _run_trials(cfg: HashedNetsConfig, eff: HashedNetsConfig, data, out: Path) -> dict:
    from ...report.hashednets_report import check_claim, summarize, write_hashednets_report

    settings = trial_settings(eff, TRIAL_KEYS)
    todo = [(c, k, s) for c in eff.compressions for k in CONTENDERS for s in eff.seeds]
    trials, skipped = run_trials(
        "hashednets", todo, out, settings, eff.resume, trial_id,
        lambda c, k, s, d: run_trial(eff, data, c, k, s, d),
        lambda r: f"test accuracy {r['test_accuracy']:.4f}, {r['stored_weights']} stored weights, "
                  f"{r['train_seconds']:.1f} s")
    summary = summarize(trials)
    results = {"experiment": "hashednets", "quick": cfg.quick, "dataset": eff.dataset,
               "train_samples": len(data.x_train), "test_samples": len(data.x_test),
               "settings": settings, "compressions": list(eff.compressions), "contenders": list(CONTENDERS),
               "seeds": list(eff.seeds), "full_compressions": list(FULL_COMPRESSIONS),
               "machine": machine_info("cpu"), "command": command_line(), "config_hash": config_hash(eff),
               "skipped_trials": skipped, "trials": trials, "summary": summary, "claim": check_claim(summary)}
    io.write_json(out / "results.json", results)
    write_hashednets_report(out, results)
    return results


__all__ = ["HashedNetsConfig", "TRIAL_KEYS", "effective", "resolve_run_dir", "run_hashednets", "run_trial", "trial_id"]
