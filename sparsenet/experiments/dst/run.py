"""`sparsenet dst`: dynamic sparse training (static, SET, RigL, SNFS, grow-then-prune) on the real
sparse kernels, every (method, seed) a resumable trial of the one training loop.

Run directory:

    config.json              the config ("experiment": "dst")
    trials/<method>-s<seed>/ one trial (see `trial`): metrics, checkpoint, final pattern, result.json
    results.json             written last: the layer plan (densities, dense layers) and every trial
    report.md, *.png         `sparsenet report DIR` (sparsenet.report.dst_report) rebuilds them

Every bad input is refused with one line before any work: the config's own checks, then those that
need the data's sizes (per-layer densities, the grow-prune trajectory). A killed run continues with
``--resume``: finished trials are read back, the interrupted one goes on from its checkpoint.
"""
from __future__ import annotations

from pathlib import Path

from ... import io
from ...config import config_from_dict, config_to_dict
from ...data import data_seed, load_dataset
from ...dst import DST_METHODS, check_rates
from ...rundir import command_line, open_run, resolve
from ...train import machine_info
from ...train.runtime import dataset_to, runtime
from .config import DstConfig
from .plan import RunPlan, erdos_renyi_note, plan_run
from .trial import run_trial, trial_id


def resolve_run_dir(cfg: DstConfig) -> Path:
    return resolve(cfg, "dst")


def load_data(cfg: DstConfig):
    data = load_dataset(cfg.dataset, cfg.data_dir, seed=cfg.data_seed).flat()
    if cfg.n_train or cfg.n_test:
        data = data.subset(cfg.n_train, cfg.n_test)
    return data


def check(cfg: DstConfig, data) -> RunPlan:
    """Every check that can fail before training; returns the layer plan."""
    check_rates(zeta=cfg.zeta, delta_t=cfg.delta_t, end_step=cfg.final_step(), steps=cfg.steps)
    return plan_run(cfg, data.in_features, data.num_classes)


def run_dst(cfg: DstConfig, *, command: str | None = None) -> dict:
    """Run (or finish) every trial; returns the results written to results.json."""
    cfg = config_from_dict(DstConfig, config_to_dict(cfg))  # validate a directly built config
    with runtime(cfg.threads, cfg.device, cfg.seeds[0]):
        data = load_data(cfg)
        plan = check(cfg, data)
        data = dataset_to(data, cfg.device)
        run_dir = resolve_run_dir(cfg)
        with open_run(run_dir, cfg, "dst", command=command or command_line()) as rd:
            if rd.finished:
                return io.read_json(run_dir / "results.json")
            trials = [run_trial(cfg, plan, data, m, s, run_dir / "trials" / trial_id(m, s))
                      for m in cfg.methods for s in cfg.seeds]
            results = _results(cfg, plan, data, trials, command or command_line())
            io.write_json(run_dir / "results.json", results)
            return results


def _results(cfg: DstConfig, plan: RunPlan, data, trials: list[dict], command: str) -> dict:
    rule = cfg.sparsity_rule()
    dense = [lp for lp in plan.layers if lp.dense]
    return {
        "experiment": "dst", "dataset": cfg.dataset, "data_seed": data_seed(cfg.dataset, cfg.data_seed),
        "sizes": plan.sizes, "spec": "-".join(map(str, plan.sizes)), "activation": cfg.activation,
        "sparsity": rule, "final_density": plan.final_density,
        "layers": [lp.as_dict() for lp in plan.layers],
        "dense_layers": [{"name": lp.name, "note": erdos_renyi_note(lp)} for lp in dense],
        "methods": {m: DST_METHODS.get(m).paper for m in cfg.methods}, "seeds": list(cfg.seeds),
        "schedule": {"steps": cfg.steps, "batch_size": cfg.batch_size, "zeta": cfg.zeta, "delta_t": cfg.delta_t,
                     "end_step": cfg.final_step(), "optimizer": cfg.optimizer, "lr": cfg.lr,
                     "momentum": cfg.momentum, "init": cfg.init,
                     "grow_prune": None if plan.trajectory is None else {
                         "start_density": plan.trajectory.start * plan.final_density,
                         "peak_density": plan.trajectory.peak * plan.final_density,
                         "grow_end": plan.trajectory.grow_end, "prune_end": plan.trajectory.prune_end}},
        "n_train": int(data.x_train.shape[0]), "n_test": int(data.x_test.shape[0]),
        "trials": trials, "execution": cfg.execution, "machine": machine_info(cfg.device), "command": command,
        "warnings": [t["warning"] for t in trials if t.get("warning")],
    }


__all__ = ["check", "load_data", "resolve_run_dir", "run_dst"]
