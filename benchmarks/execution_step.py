"""Retraining step of a pruned MLP under each --execution, interleaved in one process.

A 784-4096-4096-10 ReLU MLP pruned by magnitude (layerwise, every layer) to --density, retrained
with the prune command's engine (`TorchEngine`, Adam by default) at batch 128: `masked` (dense
layers + MaskHook), `csr` (SparseLinear layers) and `auto` (per layer, the measured faster; its
choices are printed). Each round runs --steps steps of every mode, one mode after another; the
table gives the minimum and median ms per step over --rounds rounds after a warm-up round, and the
ratio masked / mode (> 1 = faster than masked).

    python benchmarks/execution_step.py [--steps 20] [--rounds 5] [--density 0.01] [--optimizer adam]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time

import torch

from sparsenet.models import MLP
from sparsenet.prune import prune
from sparsenet.train import TorchEngine, machine_info, make_optimizer
from sparsenet.train.execution import prepare_execution


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default="784-4096-4096-10")
    p.add_argument("--density", type=float, default=0.01)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=20, help="steps per mode per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--optimizer", default="adam", choices=("adam", "sgd"))
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sizes = [int(s) for s in args.spec.split("-")]
    base = MLP(sizes, activation="relu")
    masks = dict(prune(base, "magnitude", 1 - args.density, enforce=False))
    X = torch.randn(4096, sizes[0])
    Y = torch.randint(0, sizes[-1], (4096,))
    engines, choices = {}, {}
    for mode in ("masked", "csr", "auto"):
        model = copy.deepcopy(base)
        ex = prepare_execution(model, masks, mode, batch_size=args.batch_size, optimizer=args.optimizer)
        opt = make_optimizer(args.optimizer, model.parameters(), lr=1e-3, momentum=0.9 if args.optimizer == "sgd" else 0.0)
        engines[mode], choices[mode] = TorchEngine(model, opt, hooks=ex.hooks), ex.choices
    from sparsenet.kernels.codegen import warm

    warm()
    gen = torch.Generator().manual_seed(1)
    times = {m: [] for m in engines}
    n = args.steps * args.batch_size
    for r in range(args.rounds + 1):  # round 0 warms up
        order = torch.randint(0, X.shape[0], (n,), generator=gen)
        for mode, engine in engines.items():
            t0 = time.perf_counter()
            engine.train(X, Y, order, args.batch_size)
            if r:
                times[mode].append(1e3 * (time.perf_counter() - t0) / args.steps)
    info = machine_info("cpu")
    print(f"# execution_step: {args.spec} ReLU, magnitude-pruned to density {args.density}, batch {args.batch_size}, "
          f"{args.optimizer}, {args.steps} steps x {args.rounds} rounds (+1 warm-up), interleaved")
    print(f"# machine: {info['cpu']}, {info['threads']} torch threads, numba threads {info.get('numba_threads')}, "
          f"torch {info['torch']}, {info['date']}")
    print(f"# command: python {' '.join(sys.argv)}")
    print("| execution | min ms/step | median ms/step | masked / this (min) |")
    print("|---|---:|---:|---:|")
    best = {m: min(t) for m, t in times.items()}
    for mode, t in times.items():
        print(f"| {mode} | {best[mode]:.3f} | {statistics.median(t):.3f} | {best['masked'] / best[mode]:.2f}x |")
    print("auto's choices: " + "; ".join(f"{c['layer']} d={c['density']:.4f} -> {c['choice']} ({c['reason']})"
                                         for c in choices["auto"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
