"""Cost of one pattern update against one training step, on one SparseLinear layer.

A --size² layer (default 4096²) at --density (default 1%), batch 128, SGD momentum: the median
over --reps of one training step (forward, backward, optimizer step), one SET update (signed drop,
uniform random regrowth) and one RigL update (magnitude drop, regrowth by the largest |∂L/∂w| of
the inactive connections from the batch's X and dY, tile by tile: one B·out·in product), each on
the same layer, through `sparsenet.dst.DSTHook.update`. Prints ms and the ratio update / step.

    python benchmarks/dst_update.py [--size 4096] [--density 0.01] [--reps 5] [--threads 0]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from torch import nn

from sparsenet.dst import DSTHook
from sparsenet.nn import SparseLinear
from sparsenet.train import machine_info


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--density", type=float, default=0.01)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    layer = SparseLinear.random(a.size, a.size, a.density, generator=torch.Generator().manual_seed(0))
    model = nn.Sequential(layer)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(a.batch_size, a.size)

    def step():
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()

    times = {"training step": [], "SET update": [], "RigL update": []}
    hooks = {m: DSTHook(model, m, zeta=0.3, delta_t=1, end_step=10 ** 9, steps=10 ** 9, seed=0,
                        decay="constant", layers=["0.weight"]) for m in ("set", "rigl")}
    step()  # warm-up (kernel compilation)
    for r in range(a.reps + 1):
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        hooks["set"].update(opt, r + 1)
        t2 = time.perf_counter()
        hooks["rigl"]._armed = True
        step()  # the update batch: its X and dY are captured
        hooks["rigl"]._armed = False
        t3 = time.perf_counter()
        hooks["rigl"].update(opt, r + 1)
        t4 = time.perf_counter()
        if r:  # the first round warms up
            times["training step"].append(t1 - t0)
            times["SET update"].append(t2 - t1)
            times["RigL update"].append(t4 - t3)
    m = machine_info("cpu")
    print(f"{a.size}x{a.size} at density {a.density:g} ({layer.nnz:,} live), batch {a.batch_size}; "
          f"{m.get('cpu')}, {m.get('threads')} threads, torch {m.get('torch')}, {m.get('date')}")
    step_ms = 1000 * statistics.median(times["training step"])
    print("| | median ms | × one training step |\n|---|---:|---:|")
    for k, v in times.items():
        ms = 1000 * statistics.median(v)
        print(f"| {k} | {ms:.2f} | {ms / step_ms:.2f} |")
    assert layer.nnz == round(layer.nnz)  # sizes stay exact (checked in tests/dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
