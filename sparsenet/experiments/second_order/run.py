"""`sparsenet reproduce second-order`: saddle-free Newton and friends against SGD/Adam (seed 001).

Parts, each written to ``parts/<name>.json`` when done and skipped on a rerun with the same
settings (resumable at part granularity):

* ``saddle``: a 2-D saddle and a deep linear net started next to a saddle — Newton is attracted,
  gradient descent crawls, saddle-free Newton escapes (`toy.py`);
* ``rosenbrock``: the anisotropic valley, every method;
* ``slow-net``: the seed's slow net (fixed projection in→50, 50-50-classes, leaky ReLU 0.5,
  squared error, batch 50) on Fashion-MNIST (``--dataset cifar100 --data-dir DIR`` for the seed's
  CIFAR-100): training loss vs iterations and wall-clock for SGD, Adam, exact SFN (per-layer
  blocks, as the seed), Krylov SFN and Hessian-free (`nets.py`);
* ``pruned``: Newton in the pruned subspace — exact SFN over the live weights of a magnitude-pruned
  MLP vs SGD/Adam continued from the same pruned net.

Every method trains through the one loop (`sparsenet.train.train_phase`), which logs to
``parts/<part>/metrics.jsonl`` in the schema of every command (``"event": "train"`` lines with
``"phase": "<part>/<method>"`` (toys: ``"<part>/<problem>/<method>"``), ``"step"``, ``"samples"``,
``"loss"``, ``"seconds"``; ``"event": "eval"`` lines with ``"split": "train-subset"``, ``"loss"``,
``"accuracy"``, ``"test_accuracy"``). The run directory gets config.json, parts/*.json, metrics.jsonl
(the parts' lines, in part order), results.json (``"experiment": "second-order"``), then report.md
and figures.
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from ... import io
from ...config import config_hash, config_to_dict
from ...rundir import open_run, resolve
from ...train import machine_info
from ...train.runtime import runtime
from .config import PARTS, PART_KEYS, SecondOrderConfig


def effective(cfg: SecondOrderConfig) -> SecondOrderConfig:
    """`--quick` shrinks every size (explicit flags given with --quick are overridden)."""
    if not cfg.quick:
        return cfg
    return replace(cfg, toy_iterations=min(cfg.toy_iterations, 60), iterations=min(cfg.iterations, 6), width=16,
                   train_samples=min(cfg.train_samples or 5000, 5000),
                   eval_samples=min(cfg.eval_samples, 500), test_samples=min(cfg.test_samples, 500), eval_every=2,
                   krylov_k=min(cfg.krylov_k, 8), hf_cg_iters=min(cfg.hf_cg_iters, 8), pruned_hidden=16,
                   burnin_steps=min(cfg.burnin_steps, 100), live_weights=min(cfg.live_weights, 300),
                   pruned_iterations=min(cfg.pruned_iterations, 6))


def _part_settings(cfg: SecondOrderConfig, part: str) -> dict:
    d = config_to_dict(cfg)
    return {k: d[k] for k in PART_KEYS[part]}


def run_part(cfg: SecondOrderConfig, part: str, load_data, out: Path) -> dict:
    """Run one part; its training loops log to ``out/parts/<part>/metrics.jsonl`` (rewritten)."""
    from ...train import RunContext
    from .nets import pruned_part, slow_net_part
    from .toy import rosenbrock_part, saddle_part

    ctx = RunContext(out / "parts" / part, seed=cfg.seed, progress=False)
    ctx.truncate_metrics(0)
    try:
        if part == "saddle":
            return saddle_part(cfg.toy_iterations, seed=cfg.seed, ctx=ctx)
        if part == "rosenbrock":
            return rosenbrock_part(cfg.toy_iterations * 5, ctx=ctx)  # 2-D steps are cheap; GD needs many
        if part == "slow-net":
            return slow_net_part(cfg, load_data(), ctx)
        return pruned_part(cfg, load_data(), ctx)
    finally:
        ctx.close()


def metrics_text(out: Path, parts) -> str:
    """The run's metrics.jsonl: the loop's lines of every part, in part order."""
    files = [out / "parts" / p / "metrics.jsonl" for p in parts]
    return "".join(f.read_text(encoding="utf-8") for f in files if f.is_file())


def run_second_order(cfg: SecondOrderConfig) -> dict:
    with runtime(cfg.threads, cfg.device, cfg.seed):
        return _run(cfg)


def resolve_run_dir(cfg: SecondOrderConfig) -> Path:
    """--run-dir, else OUT/second-order (defaults), OUT/second-order-quick (--quick), or with a hash."""
    return resolve(cfg, "second-order", tags=("quick",), bare_default=True)


def _run(cfg: SecondOrderConfig) -> dict:
    eff = effective(cfg)
    # every part records the settings it depends on, so any setting may change on --resume
    with open_run(resolve_run_dir(cfg), cfg, "second-order", may_change=lambda key: True,
                  record={"effective": config_to_dict(eff)}) as rd:
        return _run_parts(cfg, eff, rd.path)


def _run_parts(cfg: SecondOrderConfig, eff: SecondOrderConfig, out: Path) -> dict:
    import json

    from ...report.second_order_report import write_second_order_report

    cache: dict = {}

    def load_data():
        if "ds" not in cache:
            from ...data import load_dataset

            ds = load_dataset(eff.dataset, eff.data_dir, seed=eff.seed)
            if eff.train_samples and eff.train_samples < len(ds.x_train):
                ds = ds.subset(eff.train_samples, min(len(ds.x_test), eff.test_samples))
            cache["ds"] = ds
        return cache["ds"]

    parts, timings, skipped = {}, {}, []
    for part in eff.parts:
        path = out / "parts" / f"{part}.json"
        settings = _part_settings(eff, part)
        if eff.resume and path.is_file():
            try:
                saved = io.read_json(path)
            except (json.JSONDecodeError, UnicodeDecodeError):
                saved = None  # a torn file cannot exist (atomic writes), but a hand-edited one can
            if saved and saved.get("settings_key") == settings:
                parts[part], timings[part] = saved["result"], saved["seconds"]
                skipped.append(part)
                print(f"[second-order] {part}: done before, skipped ({path})", file=sys.stderr, flush=True)
                continue
        print(f"[second-order] {part} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        parts[part] = run_part(eff, part, load_data, out)
        timings[part] = time.perf_counter() - t0
        io.write_json(path, {"part": part, "settings_key": settings, "seconds": timings[part], "result": parts[part]})
    io.write_text(out / "metrics.jsonl", metrics_text(out, eff.parts))
    results = {"experiment": "second-order", "quick": cfg.quick, "dataset": eff.dataset, "machine": machine_info(cfg.device),
               "config_hash": config_hash(eff), "part_seconds": timings, "skipped_parts": skipped,
               "parts": parts, "summary": summarize(parts)}
    io.write_json(out / "results.json", results)
    write_second_order_report(out, results)
    return results


def summarize(parts: dict) -> dict:
    """The headline numbers (the report's table and the docs read these)."""
    s: dict = {}
    if "saddle" in parts:
        for name, prob in parts["saddle"]["problems"].items():
            s[f"saddle/{name}"] = {r["method"]: {"final_loss": r["final_loss"], "final_distance": r["final_distance"],
                                                 "escaped_at": r["escaped_at"]} for r in prob["runs"]}
    if "rosenbrock" in parts:
        s["rosenbrock"] = {r["method"]: {"final_loss": r["final_loss"], "iterations_to_1e-8": r["iterations_to_1e-8"]}
                           for r in parts["rosenbrock"]["runs"]}
    for part in ("slow-net", "pruned"):
        if part in parts:
            runs = {r["method"]: r for r in parts[part]["runs"]}
            s[part] = {m: {"iterations": r["iteration"][-1], "final_train_loss": r["final_train_loss"],
                           "final_test_accuracy": r["final_test_accuracy"], "train_seconds": r["train_seconds"],
                           "diverged": r["diverged"]} for m, r in runs.items()}
            if "sfn" in runs and "sgd" in runs:
                sfn, sgd = runs["sfn"], runs["sgd"]
                s[part]["sfn_beats_sgd_same_iterations"] = (sfn["iteration"][-1] == sgd["iteration"][-1]
                                                            and sfn["final_train_loss"] < sgd["final_train_loss"])
    return s


__all__ = ["SecondOrderConfig", "resolve_run_dir", "run_second_order", "effective", "PARTS", "summarize", "metrics_text"]
