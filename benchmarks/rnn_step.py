"""One BPTT training step of an Elman RNN classifier, dense vs sparse at a fixed budget, by width.

Row-by-row images (T = 28 steps of 28 values, batch 32, 10 classes): `RNNClassifier(28, H, 10)` with
dense nn.Linear matrices, against the same net whose input and recurrent matrices are SparseLinear
with --input-budget and --recurrent-budget live weights (random patterns; the defaults are the budgets
of `sparsenet reproduce seed-figure-rnn`: a dense width-128 net's 3,584 and 16,384), for each width H.
Prints median ms per step (forward, BPTT backward, SGD step) and dense / sparse.

    python benchmarks/rnn_step.py [--widths 64,256,1024,4096] [--reps 5] [--threads 2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from sparsenet.nn import SparseLinear
from sparsenet.nn.rnn import RNNClassifier
from sparsenet.train import machine_info


def _step_ms(model, x, y, reps):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    times = []
    for r in range(reps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        if r:
            times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", default="64,256,1024,4096")
    p.add_argument("--input-budget", type=int, default=3584)
    p.add_argument("--recurrent-budget", type=int, default=16384)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    x, y = torch.randn(a.batch_size, 28, 28), torch.randint(0, 10, (a.batch_size,))
    m = machine_info("cpu")
    print(f"Elman RNN 28-H-10, T=28, batch {a.batch_size}, budgets {a.input_budget} (W_ih) + {a.recurrent_budget} (W_hh); "
          f"{m.get('cpu')}, {a.threads} thread(s), torch {m.get('torch')}, {m.get('date')}")
    print("| H | dense ms/step | sparse ms/step | dense / sparse | live W_ih + W_hh |\n|---:|---:|---:|---:|---:|")
    for h in [int(w) for w in a.widths.split(",")]:
        torch.manual_seed(0)
        dense = RNNClassifier(28, h, 10)
        sparse = RNNClassifier(28, h, 10)
        g = torch.Generator().manual_seed(0)
        sparse.rnn.ih = SparseLinear.random(28, h, min(1.0, a.input_budget / (28 * h)), generator=g)
        sparse.rnn.hh = SparseLinear.random(h, h, min(1.0, a.recurrent_budget / (h * h)), generator=g)
        d_ms = _step_ms(dense, x, y, a.reps)
        s_ms = _step_ms(sparse, x, y, a.reps)
        live = sparse.rnn.ih.nnz + sparse.rnn.hh.nnz
        print(f"| {h} | {d_ms:.2f} | {s_ms:.2f} | {d_ms / s_ms:.2f}× | {live} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
