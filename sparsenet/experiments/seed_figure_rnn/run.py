"""`sparsenet reproduce seed-figure-rnn`: the seed's figure for recurrent nets (design doc 000's next
step, "do this with RNNs proper"): accuracy and training time vs hidden width at a fixed budget of
live weights, dense vs sparse, measured in one run.

Protocol, per width H: an Elman RNN classifier in-H-classes (`sparsenet.nn.RNNClassifier`; tanh,
readout of the last state) reads each example as a sequence — images row by row, MNIST-1D one value
per step. Both variants start from the same init and train the same `burnin_samples` dense
(minibatch Adam or SGD, gradient-norm clipping, the seed's sample stream). Then

* ``dense`` goes on dense for `samples` more;
* ``sparse`` keeps the `input_budget` largest |w| of W_ih and the `recurrent_budget` largest of
  W_hh (a matrix at most that large is kept whole), turns both into `SparseLinear` — backpropagation
  through time then costs O(nnz) per step — and trains the same `samples` on the same stream.
  The readout stays dense, as the seed's output layer does.

Both restart the optimizer's state after the burn-in. W_hh has its own learning rate,
lr x min(1, lr_fan_in / its fan-in) (`param_groups`), the same rule for both variants. Each (width, variant) is one trial directory
(``trials/w<H>-<variant>/``: the loop's metrics.jsonl, result.json last); ``--resume`` reuses the
finished ones that have the same settings.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from ... import io
from ...config import config_hash, config_to_dict
from ...rundir import command_line, open_run, resolve
from ...train import machine_info
from ...train.runtime import runtime
from ..trials import run_trials
from .config import BUDGET_WIDTH, FULL_WIDTHS, QUICK, QUICK_OUT_SUFFIX, VARIANTS, SeedFigureRNNConfig

# Settings a finished trial depends on (it is rerun on --resume when one of them changed).
TRIAL_KEYS = ("dataset", "burnin_samples", "samples", "batch_size", "optimizer", "lr", "lr_fan_in", "momentum", "clip", "n_test", "seed",
              "threads")


def effective(cfg: SeedFigureRNNConfig) -> SeedFigureRNNConfig:
    """--quick replaces each of `QUICK`'s settings left at its default."""
    if not cfg.quick:
        return cfg
    default = SeedFigureRNNConfig()
    return replace(cfg, **{k: v for k, v in QUICK.items() if getattr(cfg, k) == getattr(default, k)})


def resolve_run_dir(cfg: SeedFigureRNNConfig) -> Path:
    """--run-dir, else OUT/seed-figure-rnn (defaults), OUT/seed-figure-rnn-quick (--quick), or with a hash."""
    assert QUICK_OUT_SUFFIX == "-quick"
    return resolve(cfg, "seed-figure-rnn", tags=("quick",), bare_default=True)


def as_sequences(ds):
    """(the dataset with each example flattened in sequence order, steps T, values per step F):
    images (C, H, W) become H rows of C·W values, a vector (L,) L steps of one value."""
    shape = tuple(ds.input_shape)
    if len(shape) == 1:
        return ds.flat(), shape[0], 1
    if len(shape) != 3:
        from ...errors import SparsenetError
        raise SparsenetError(f"dataset {ds.name!r} has inputs of shape {shape}; seed-figure-rnn reads images "
                             "(C, H, W) row by row or vectors (L,) step by step")
    c, h, w = shape

    def rows(x):
        return x.reshape(len(x), c, h, w).permute(0, 2, 1, 3).reshape(len(x), h * c * w).contiguous()
    flat = ds.flat()
    return replace(flat, x_train=rows(flat.x_train), x_test=rows(flat.x_test)), h, c * w


def budgets(eff: SeedFigureRNNConfig, in_size: int) -> tuple[int, int]:
    """(W_ih budget, W_hh budget): the given ones, else those of a dense width-BUDGET_WIDTH net."""
    return (eff.input_budget or in_size * BUDGET_WIDTH,
            eff.recurrent_budget or BUDGET_WIDTH * BUDGET_WIDTH)


def top_magnitude_mask(weight: torch.Tensor, budget: int) -> torch.Tensor:
    """The `budget` largest |w| (all of them when the matrix has at most `budget`); ties by index."""
    flat = weight.detach().abs().flatten()
    keep = torch.zeros(flat.numel(), dtype=torch.bool)
    if budget >= flat.numel():
        keep[:] = True
    else:
        keep[torch.topk(flat, budget, sorted=False).indices] = True
    return keep.reshape(weight.shape)


def prune_to_sparse(model, input_budget: int, recurrent_budget: int) -> None:
    """Magnitude-prune the model's W_ih and W_hh to their budgets and make both SparseLinear, in place."""
    from ...nn import SparseLinear

    rnn = model.rnn
    for name, budget in (("ih", input_budget), ("hh", recurrent_budget)):
        layer = getattr(rnn, name)
        setattr(rnn, name, SparseLinear.from_linear(layer, top_magnitude_mask(layer.weight, budget)))


def live_counts(model) -> dict:
    """Live weights of W_ih + W_hh ("hidden"), of the readout, and the units with any input connection."""
    from ...nn import SparseLinear

    rnn, hidden, units = model.rnn, 0, torch.zeros(model.rnn.hidden_size, dtype=torch.bool)
    for layer in (rnn.ih, rnn.hh):
        if isinstance(layer, SparseLinear):
            hidden += layer.nnz
            units |= torch.bincount(layer.row, minlength=layer.out_features) > 0
        else:
            hidden += int((layer.weight != 0).sum())
            units |= (layer.weight != 0).any(1)
    output = int((model.readout.weight != 0).sum())
    return {"hidden_live_weights": hidden, "output_live_weights": output, "live_weights": hidden + output,
            "live_hidden_units": int(units.sum())}


def fan_in(layer) -> float:
    """Mean live weights per output unit of a linear or SparseLinear layer."""
    from ...nn import SparseLinear

    live = layer.nnz if isinstance(layer, SparseLinear) else int((layer.weight != 0).sum())
    return max(1.0, live / layer.out_features)


def param_groups(model, lr: float, fan_in_ref: int) -> list[dict]:
    """Two optimizer groups: W_hh (with b_hh) at lr x min(1, fan_in_ref / its fan-in), everything
    else at lr; one lr for all when `fan_in_ref` is 0."""
    hh = model.rnn.hh
    scale = min(1.0, fan_in_ref / fan_in(hh)) if fan_in_ref else 1.0
    rest = [p for n, p in model.named_parameters() if not n.startswith("rnn.hh.")]
    return [{"params": rest, "lr": lr}, {"params": list(hh.parameters()), "lr": lr * scale}]


def run_trial(eff: SeedFigureRNNConfig, data, steps_per_seq: int, width: int, variant: str, out: Path) -> dict:
    """Train one (width, variant); the loop writes ``out/metrics.jsonl``; returns its row."""
    import time

    from ...errors import DivergenceError
    from ...nn import RNNClassifier
    from ...train import (GradClip, LoopSettings, PhaseState, RunContext, SampleStream, TorchEngine, evaluate,
                          make_optimizer, train_phase)

    x, y = data.x_train, data.y_train
    T, B = steps_per_seq, eff.batch_size
    torch.manual_seed(eff.seed)
    model = RNNClassifier(x.shape[1] // T, width, data.num_classes, seq_len=T)
    stream = SampleStream(len(x), eff.seed)
    hooks = [GradClip(eff.clip)] if eff.clip > 0 else []
    ctx = RunContext(out, seed=eff.seed, progress=eff.progress)
    ctx.truncate_metrics(0)
    phases, diverged, done = {}, None, 0

    def phase(name: str, steps: int, start: int) -> None:
        nonlocal done
        opt = make_optimizer(eff.optimizer, param_groups(model, eff.lr, eff.lr_fan_in), lr=eff.lr,
                             momentum=eff.momentum)
        settings = LoopSettings(steps=steps, batch_size=B, log_every=max(1, steps // 10), eval_every=0,
                                checkpoint_every=0)
        state = train_phase(ctx, PhaseState(name), TorchEngine(model, opt), (x, y), stream, settings=settings,
                            stream_start=start, hooks=hooks)
        phases[name] = state.seconds
        done += state.step

    burnin = eff.burnin_samples // B
    try:
        if burnin:
            phase("burnin", burnin, 0)
        if variant == "sparse":
            t0 = time.perf_counter()
            prune_to_sparse(model, *budgets(eff, x.shape[1] // T))
            phases["prune"] = time.perf_counter() - t0
        phase(variant, eff.samples // B, burnin * B)
    except DivergenceError as e:
        diverged = str(e)
    finally:
        ctx.close()
    n_test = eff.n_test if eff.n_test and eff.n_test < len(data.x_test) else len(data.x_test)
    test = evaluate(model, data.x_test[:n_test], data.y_test[:n_test], batch=500) if diverged is None else \
        {"accuracy": float("nan"), "loss": float("nan")}
    main = phases.get(variant, 0.0)
    main_steps = eff.samples // B
    return {"width": width, "variant": variant, **live_counts(model), "steps": done,
            "train_seconds": sum(phases.values()) if diverged is None else float("nan"),
            "phase_seconds": phases, "ms_per_step": 1000 * main / main_steps if main_steps else float("nan"),
            "test_accuracy": test["accuracy"], "test_loss": test["loss"], "n_test": n_test,
            "diverged": diverged, "run_dir": f"trials/w{width}-{variant}"}


def trial_id(width: int, variant: str) -> str:
    return f"w{width}-{variant}"


def run_seed_figure_rnn(cfg: SeedFigureRNNConfig) -> dict:
    with runtime(cfg.threads, "cpu", cfg.seed):
        return _run(cfg)


def _run(cfg: SeedFigureRNNConfig) -> dict:
    from ...data import load_dataset

    eff = effective(cfg)
    data, T, F = as_sequences(load_dataset(eff.dataset, eff.data_dir, seed=eff.seed))
    with open_run(resolve_run_dir(cfg), cfg, "seed-figure-rnn", may_change=lambda key: True,
                  record={"effective": config_to_dict(eff)}) as rd:
        return _run_trials(cfg, eff, data, T, F, rd.path)


def _run_trials(cfg: SeedFigureRNNConfig, eff: SeedFigureRNNConfig, data, T: int, F: int, out: Path) -> dict:
    from ...report.seed_rnn_report import write_seed_rnn_report

    b_ih, b_hh = budgets(eff, F)
    settings = {**{k: config_to_dict(eff)[k] for k in TRIAL_KEYS}, "input_budget": b_ih, "recurrent_budget": b_hh}
    todo = [(w, v) for w in eff.widths for v in VARIANTS]
    rows, skipped = run_trials(
        "seed-figure-rnn", todo, out, settings, eff.resume, trial_id,
        lambda w, v, d: run_trial(eff, data, T, w, v, d),
        lambda r: f"test accuracy {r['test_accuracy']:.4f}, {r['train_seconds']:.1f} s "
                  f"({r['ms_per_step']:.1f} ms/step), {r['hidden_live_weights']:,} live in W_ih + W_hh")
    results = {"experiment": "seed-figure-rnn", "quick": cfg.quick, "dataset": eff.dataset,
               "sequence": {"steps": T, "values_per_step": F}, "train_samples": len(data.x_train),
               "test_samples": rows[0]["n_test"] if rows else None, "settings": settings,
               "widths": list(eff.widths), "full_widths": list(FULL_WIDTHS), "machine": machine_info("cpu"),
               "command": command_line(), "config_hash": config_hash(eff), "skipped_trials": skipped, "rows": rows}
    io.write_json(out / "results.json", results)
    write_seed_rnn_report(out, results)
    return results


__all__ = ["SeedFigureRNNConfig", "TRIAL_KEYS", "as_sequences", "budgets", "effective", "fan_in", "live_counts",
           "param_groups",
           "prune_to_sparse", "resolve_run_dir", "run_seed_figure_rnn", "run_trial", "top_magnitude_mask"]
