"""One epoch of SET and of RigL: sparsenet on CSR vs the same method on masked dense PyTorch vs sparselab.

Fashion-MNIST 784-1000-1000-1000-10 (--sizes), Erdős–Rényi layers at ε = 20 (the 10-unit output
layer is dense), batch 128, SGD lr 0.01 momentum 0.9, ζ = 0.3 every ΔT = 100 steps, one epoch
(469 steps) of the same sample order for every contender. Each contender runs in its own process
(its peak RSS is its own; "model + training" = peak RSS minus the RSS once the data and the
kernels' machine code are loaded: weights, patterns, optimizer state, activations and gradients) one after another, at the same thread count:

    sparsenet-csr     SparseLinear layers + `sparsenet.dst.DSTHook`             O(nnz) steps and updates
    masked-dense      nn.Linear + enforce_masks + the same DSTHook               dense steps, same choices
    sparselab         sparselab.SET / sparselab.RigL (PyPI), when --sparselab-python has it
    dense             plain nn.Linear, no sparsity (the reference the ratios divide)

    python benchmarks/dst_epoch.py [--threads 2] [--steps 0] [--sparselab-python /tmp/slab/bin/python]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _densities(sizes, epsilon):
    from sparsenet.dst import er_density
    return [er_density(i, o, epsilon) for i, o in zip(sizes[:-1], sizes[1:])]


def run_contender(name: str, method: str, a) -> dict:
    """In this process: one epoch of `name` with `method`; returns its timings."""
    import numpy as np
    import torch
    from torch import nn

    from sparsenet.dst import DSTHook
    from sparsenet.masks import enforce_masks
    from sparsenet.nn import SparseLinear
    from sparsenet.train import StepContext, TorchEngine

    torch.set_num_threads(a.threads)
    X = torch.from_numpy(np.load(f"{a.data}/x.npy"))
    Y = torch.from_numpy(np.load(f"{a.data}/y.npy"))
    order = torch.from_numpy(np.load(f"{a.data}/order.npy"))
    from sparsenet.kernels.codegen import warm

    warm()  # the kernels' machine code (~190 MiB once per process) is loaded before the baseline
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB before the model exists
    sizes = [int(s) for s in a.sizes.split("-")]
    dens = _densities(sizes, a.epsilon)
    g = torch.Generator().manual_seed(0)
    layers = []
    for (n_in, n_out), d in zip(zip(sizes[:-1], sizes[1:]), dens):
        layers.append(nn.Linear(n_in, n_out) if d >= 1 or name == "dense" else SparseLinear.random(n_in, n_out, d, generator=g))
    masks = {}
    if name == "masked-dense":
        for i, l in enumerate(layers):
            if isinstance(l, SparseLinear):
                masks[f"{2 * i}.weight"] = l.mask()
                layers[i] = l.to_linear()
    model = nn.Sequential(*[m for l in layers[:-1] for m in (l, nn.ReLU())], layers[-1])
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9)
    hooks = []
    steps = a.steps or order.numel() // a.batch_size
    names = [f"{2 * i}.weight" for i, d in enumerate(dens) if d < 1]
    if masks:
        enforce_masks(model, masks, optimizer=opt)
    if name != "dense":
        hooks.append(DSTHook(model, method, zeta=a.zeta, delta_t=a.delta_t, end_step=steps, steps=steps, seed=0,
                             decay="constant", drop="magnitude", layers=names))
    engine = TorchEngine(model, opt, hooks=hooks)
    c = StepContext(model, opt)
    for h in hooks:
        h.on_start(c)
    t0 = time.perf_counter()
    engine.train(X, Y, order[: steps * a.batch_size], a.batch_size, context=c)
    secs = time.perf_counter() - t0
    upd = hooks[0].update_seconds if hooks else 0.0
    live = sum(l.nnz if isinstance(l, SparseLinear) else l.weight.numel() for l in layers)
    if masks:
        live = sum(int(m.sum()) for m in masks.values()) + sum(l.weight.numel() for i, l in enumerate(layers)
                                                                if f"{2 * i}.weight" not in masks)
    return {"seconds": secs, "update_seconds": upd, "steps": steps, "live": live,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "base_rss_mib": base}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="784-1000-1000-1000-10")
    p.add_argument("--epsilon", type=float, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--zeta", type=float, default=0.3)
    p.add_argument("--delta-t", type=int, default=100)
    p.add_argument("--steps", type=int, default=0, help="0: one epoch")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sparselab-python", default="/tmp/slab/bin/python")
    p.add_argument("--contender", help=argparse.SUPPRESS)
    p.add_argument("--method", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.contender:
        print(json.dumps(run_contender(a.contender, a.method, a)))
        return 0
    import numpy as np
    import torch

    from sparsenet.data import load_dataset
    from sparsenet.train import machine_info

    ds = load_dataset("fashion-mnist")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), NUMBA_NUM_THREADS=str(a.threads))
    sizes = [int(s) for s in a.sizes.split("-")]
    dens = _densities(sizes, a.epsilon)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/x.npy", ds.x_train.reshape(ds.x_train.shape[0], -1).numpy())
        np.save(f"{tmp}/y.npy", ds.y_train.numpy())
        np.save(f"{tmp}/order.npy", torch.randperm(ds.x_train.shape[0], generator=torch.Generator().manual_seed(0)).numpy())
        common = ["--sizes", a.sizes, "--batch-size", str(a.batch_size), "--lr", str(a.lr), "--zeta", str(a.zeta),
                  "--delta-t", str(a.delta_t), "--steps", str(a.steps)]
        results = {}
        plan = [("dense", "set")] + [(c, m) for m in ("set", "rigl") for c in ("sparsenet-csr", "masked-dense", "sparselab")]
        for contender, method in plan:
            if contender == "sparselab":
                if not Path(a.sparselab_python).exists():
                    print(f"sparselab: skipped ({a.sparselab_python} not found)")
                    continue
                cmd = [a.sparselab_python, str(HERE / "contenders" / "sparselab_dst.py"), tmp, method,
                       "--densities", ",".join(f"{d:.6g}" for d in dens), *common]
            else:
                cmd = [sys.executable, __file__, "--contender", contender, "--method", method, "--data", tmp,
                       "--threads", str(a.threads), "--epsilon", str(a.epsilon), *common]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode != 0:
                print(f"{contender} {method}: failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            results[(contender, method)] = json.loads(out.stdout.strip().splitlines()[-1])
    m = machine_info("cpu")
    print(f"\n{a.sizes}, ε={a.epsilon:g} (densities {', '.join(f'{d:.4g}' for d in dens)}), batch {a.batch_size}, "
          f"ζ={a.zeta} every {a.delta_t} steps; {m.get('cpu')}, {a.threads} threads, torch {m.get('torch')}, {m.get('date')}")
    dense = results.get(("dense", "set"), {}).get("seconds")
    print("| method | contender | epoch s | of which updates s | vs dense | vs masked | vs sparselab | peak RSS MiB | model + training MiB | bytes per live weight |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (contender, method), r in results.items():
        meth = "—" if contender == "dense" else method
        masked = results.get(("masked-dense", method), {}).get("seconds")
        slab = results.get(("sparselab", method), {}).get("seconds")
        ratio = lambda ref: f"{ref / r['seconds']:.2f}×" if ref else "—"  # noqa: E731
        print(f"| {meth} | {contender} | {r['seconds']:.2f} | {r.get('update_seconds', float('nan')):.2f} | "
              f"{ratio(dense)} | {ratio(masked) if contender != 'masked-dense' else '1'} | "
              f"{ratio(slab) if contender != 'sparselab' else '1'} | {r['peak_rss_mib']:.0f} | "
              f"{r['peak_rss_mib'] - r['base_rss_mib']:.0f} | {(r['peak_rss_mib'] - r['base_rss_mib']) * 2**20 / r['live']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
