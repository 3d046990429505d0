"""The measurement behind ``--execution auto``: one training step of a layer, masked vs CSR.

For a masked ``nn.Linear`` of shape (out, in) at density d, trained at batch B with optimizer O,
`measured_step_ms` times one step both ways on this machine and device:

    masked: y = X W^T + b (dense GEMM), y.backward(G), zero the pruned gradients, O.step(),
            re-zero the pruned weights                          -- O(out * in * B) work
    csr:    the same step of `SparseLinear` built from W at the mask  -- O(nnz * B) work

X (B, in) requires a gradient (a hidden layer's input). Each side runs one warm-up step, then the
minimum over `REPS` interleaved repetitions is kept. Densities are bucketed on a log2 grid of
quarter steps (d -> 2^(round(4 log2 d) / 4), ~19% apart) and measured at the bucket's density with a
random pattern, so the IMP levels of a run share a few measurements.

Timings are cached per machine in ``<sparsenet cache dir>/execution/<machine>.json``
(``~/.cache/sparsenet/execution/``; ``SPARSENET_CACHE_DIR`` moves it), keyed by shape, batch,
density bucket and optimizer; the machine key hashes the CPU model, torch / numba threads, torch
version and device. Delete the file to measure again.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path

import torch
from torch import nn

from .. import io

REPS = 3


def density_bucket(density: float) -> float:
    """The representative density of `density`'s bucket (log2 grid, quarter steps, at most 1)."""
    if density <= 0:
        return 0.0
    return min(1.0, 2.0 ** (round(4 * math.log2(density)) / 4))


def cache_path(device: str | torch.device) -> Path:
    from ..kernels.codegen import cache_dir
    from .context import machine_info

    info = machine_info(device)
    ident = {k: info.get(k) for k in ("cpu", "threads", "numba_threads", "torch", "device", "gpu")}
    digest = hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]
    return cache_dir().parent / "execution" / f"{digest}.json"


def _key(out_f: int, in_f: int, batch: int, bucket: float, optimizer: str) -> str:
    return f"{out_f}x{in_f}:B{batch}:d{bucket:.6g}:{optimizer}"


def _optimizer(name: str, params) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3)
    return torch.optim.SGD(params, lr=1e-3, momentum=0.9)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _measure(out_f: int, in_f: int, batch: int, density: float, optimizer: str,
             device: torch.device) -> dict:
    from ..nn import SparseLinear

    g = torch.Generator().manual_seed(0)
    dense = nn.Linear(in_f, out_f).to(device)
    mask = (torch.rand(out_f, in_f, generator=g) < density).to(device)
    with torch.no_grad():
        dense.weight.masked_fill_(~mask, 0)
    sparse = SparseLinear.from_linear(dense, mask)
    if device.type == "cpu":
        from ..kernels.codegen import warm

        warm()  # kernel compile / cache load stays outside the timings
    X = torch.randn(batch, in_f, generator=g).to(device).requires_grad_(True)
    G = torch.randn(batch, out_f, generator=g).to(device)
    opt_d, opt_s = _optimizer(optimizer, dense.parameters()), _optimizer(optimizer, sparse.parameters())

    def masked_step():
        opt_d.zero_grad(set_to_none=True)
        X.grad = None
        dense(X).backward(G)
        with torch.no_grad():
            dense.weight.grad.masked_fill_(~mask, 0)
        opt_d.step()
        with torch.no_grad():
            dense.weight.masked_fill_(~mask, 0)

    def csr_step():
        opt_s.zero_grad(set_to_none=True)
        X.grad = None
        sparse(X).backward(G)
        opt_s.step()

    best = {"masked_ms": math.inf, "csr_ms": math.inf}
    steps = {"masked_ms": masked_step, "csr_ms": csr_step}
    for step in steps.values():
        step()  # warm-up
    _sync(device)
    for _ in range(REPS):
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            _sync(device)
            best[name] = min(best[name], 1e3 * (time.perf_counter() - t0))
    return {k: round(v, 4) for k, v in best.items()}


def measured_step_ms(out_f: int, in_f: int, batch: int, density: float, optimizer: str,
                     device: str | torch.device = "cpu") -> dict:
    """``{"masked_ms", "csr_ms", "density"}`` of one step at `density`'s bucket (cached per machine)."""
    device = torch.device(device)
    bucket = density_bucket(density)
    path = cache_path(device)
    key = _key(out_f, in_f, batch, bucket, optimizer)
    cache = {}
    if path.is_file():
        try:
            cache = io.read_json(path)
        except (OSError, ValueError):
            cache = {}  # a torn or foreign file is measured again
    if key not in cache:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            cache[key] = _measure(out_f, in_f, batch, bucket, optimizer, device)
        try:
            io.write_json(path, cache)
        except OSError:
            pass  # a read-only cache dir: measure again next time
    return {**cache[key], "density": bucket}


__all__ = ["REPS", "cache_path", "density_bucket", "measured_step_ms"]
