"""`sparsenet bench`: sparse training kernels vs dense PyTorch and other sparse libraries.

Two suites, each measured interleaved in one process (`sparsenet.bench.timing`):
  layer  one linear layer's step per shape (out x in x batch) and density; columns fwd / dX / dW /
         update / total / total_fm in ms and the ratio of dense's total to each contender's
  mlp    a whole MLP training step (default 784-4096-4096-10) at each sparsity vs dense
  inference  a magnitude-pruned MLP's forward under torch.no_grad (LeNet-300-100 and
         784-4096-4096-10 at 90/95/99% sparsity, batch 1/32/256) vs dense and torch.sparse

Each finished case is written to results.json at once (atomically), so an interrupted bench
resumes where it stopped; results.json also records machine, threads and library versions.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from ... import io
from ...config import config_to_dict
from ...report.bench_report import format_case, format_tables
from ...train.runtime import runtime
from .config import (BenchConfig, FULL_SHAPES, INFERENCE_MODELS, QUICK_INFERENCE_MODELS, QUICK_SHAPES,
                     _parse_shape)


def _versions() -> dict:
    import numba
    import numpy

    from ...bench.external import available

    return {"torch": torch.__version__, "numba": numba.__version__, "numpy": numpy.__version__, **available()}


def _layer_rows(cfg: BenchConfig, done: dict, save) -> None:
    from ...bench.layer import LAYER_CONTENDERS, layer_contenders, make_problem
    from ...bench.timing import time_interleaved

    names = layer_contenders(list(cfg.contenders))
    shapes = QUICK_SHAPES if cfg.quick and cfg.shapes == FULL_SHAPES else cfg.shapes
    for shape in shapes:
        out_f, in_f, batch = _parse_shape(shape)
        for density in cfg.densities:
            def measure(out_f=out_f, in_f=in_f, batch=batch, density=density, shape=shape):
                problem = make_problem(out_f, in_f, batch, density, seed=cfg.seed)
                cases = {n: LAYER_CONTENDERS.get(n)(problem) for n in names}
                ms = time_interleaved(cases, repeats=cfg.repeats, warmup=cfg.warmup, min_seconds=0.02)
                dense = ms.get("dense", {})
                rows = []
                for n in names:
                    r = {"contender": n, **{k: round(v, 4) for k, v in ms[n].items()}}
                    if "fwd+bwd" in r:
                        r["bwd"] = round(r.pop("fwd+bwd") - r["fwd"], 4)
                    elif "dX" in r:
                        r["bwd"] = round(r["dX"] + r["dW"], 4)
                    for col in ("total", "total_fm"):
                        if col in r and col in dense:
                            r[f"speedup_{col}"] = round(dense[col] / r[col], 2)
                    rows.append(r)
                return {"suite": "layer", "shape": shape, "out": out_f, "in": in_f, "batch": batch,
                        "density": density, "nnz": int(problem.mask.sum()), "rows": rows}
            _run_case(done, f"layer {shape} d={density:g}", save, measure)


def _run_case(done: dict, key: str, save, measure) -> None:
    """Measure one case unless results.json already has it; save at once (an interrupted bench resumes)."""
    if key in done:
        return
    print(f"[bench] {key} ...", file=sys.stderr, flush=True)
    from ...kernels import tuning

    start = tuning.mark()
    done[key] = measure()
    done[key]["kernel_choices"] = tuning.decisions_since(start)  # which numba kernels the timing picked
    save()
    print(format_case(done[key]), file=sys.stderr, flush=True)


def _one_phase_rows(cases: dict, phase: str, cfg: BenchConfig) -> list[dict]:
    """Time {contender: fn} interleaved; rows with ms and the ratio against "dense"."""
    from ...bench.timing import time_interleaved

    ms = time_interleaved({n: {phase: fn} for n, fn in cases.items()}, repeats=cfg.repeats, warmup=cfg.warmup,
                          min_seconds=0.02)
    dense = ms["dense"][phase]
    return [{"contender": n, phase: round(ms[n][phase], 4), "speedup": round(dense / ms[n][phase], 2)} for n in cases]


def _mlp_rows(cfg: BenchConfig, done: dict, save) -> None:
    from ...bench.mlp import mlp_case, mlp_contenders
    from ...models import parse_layer_spec

    spec = "64-256-256-10" if cfg.quick and cfg.mlp == "784-4096-4096-10" else cfg.mlp
    sizes = parse_layer_spec(spec)
    for batch in cfg.mlp_batches:
        for sparsity in cfg.mlp_sparsities:
            def measure(batch=batch, sparsity=sparsity):
                rows = _one_phase_rows({n: mlp_case(n, sizes, cfg.activation, sparsity, batch, seed=cfg.seed)
                                        for n in mlp_contenders(batch)}, "step", cfg)
                return {"suite": "mlp", "sizes": sizes, "batch": batch, "sparsity": sparsity,
                        "activation": cfg.activation, "rows": rows}
            _run_case(done, f"mlp {spec} B={batch} s={sparsity:g}", save, measure)


def _inference_rows(cfg: BenchConfig, done: dict, save) -> None:
    from ...bench.inference import inference_cases
    from ...models import parse_layer_spec

    specs = QUICK_INFERENCE_MODELS if cfg.quick and cfg.inference_models == INFERENCE_MODELS else cfg.inference_models
    for spec in specs:
        sizes = parse_layer_spec(spec)
        for sparsity in cfg.inference_sparsities:
            for batch in cfg.inference_batches:
                def measure(sizes=sizes, batch=batch, sparsity=sparsity):
                    cases, facts = inference_cases(sizes, sparsity, batch, seed=cfg.seed)
                    return {"suite": "inference", "sizes": sizes, "batch": batch, "sparsity": sparsity,
                            **facts, "rows": _one_phase_rows(cases, "forward", cfg)}
                _run_case(done, f"inference {spec} B={batch} s={sparsity:g}", save, measure)


def run_bench(cfg: BenchConfig) -> dict:
    from ...kernels.codegen import warm
    from ...train import machine_info

    with runtime(cfg.threads, "cpu", cfg.seed):
        out = Path(cfg.out)
        settings = {k: v for k, v in config_to_dict(cfg).items() if k not in ("out", "resume")}
        previous = io.read_json(out / "results.json") if (out / "results.json").exists() else None
        done = previous["cases"] if cfg.resume and previous and previous.get("settings") == settings else {}
        results = {"experiment": "bench", "settings": settings, "machine": machine_info("cpu"),
                   "threads": torch.get_num_threads(), "versions": _versions(),
                   "numba_compile_seconds": round(warm(), 3), "cases": done}

        def save():
            io.write_json(out / "results.json", results)

        save()
        if cfg.suite in ("all", "layer"):
            _layer_rows(cfg, done, save)
        if cfg.suite in ("all", "mlp"):
            _mlp_rows(cfg, done, save)
        if cfg.suite == "inference":
            _inference_rows(cfg, done, save)
        io.write_text(out / "table.md", format_tables(results))
        return results
