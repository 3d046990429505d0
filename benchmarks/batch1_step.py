"""Per-sample cost of one online-SGD step (batch 1) of an MLP 784-H-10, tanh, at a fixed hidden
budget of ~3,136 live weights (the seed's setting), for four contenders measured in this run:

  dense-torch   nn.Linear + autograd + torch.optim.SGD   (the baseline; ratios are against it)
  dense-fused   the fused numba kernel on the dense layers
  sparse-torch  SparseLinear (CSR, O(nnz) autograd ops) + torch.optim.SGD
  sparse-fused  the fused numba kernel on the CSR hidden layer (what `sparsenet train` uses)

Sparse contenders prune the hidden layer by magnitude to the budget and remove unconnected units.
Each contender runs `--samples` steps after a warm-up; the minimum over `--repeats` is reported.

    python benchmarks/batch1_step.py [--widths 16,256,1024,4096] [--samples 2000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import copy
import sys
import time

import torch

from sparsenet.experiments.train.pruning import prune_model
from sparsenet.masks import halving_masks
from sparsenet.models import MLP
from sparsenet.train import FusedEngine, TorchEngine, machine_info


def contenders(H: int):
    torch.manual_seed(0)
    dense = MLP([784, H, 10], "tanh")
    masks, _ = halving_masks(dense, ["layers.0.weight"], budget=3180)
    sparse, _, _ = prune_model(copy.deepcopy(dense), masks, remove=True)
    out = {}
    for name, model in (("dense", dense), ("sparse", sparse)):
        m1, m2 = copy.deepcopy(model), copy.deepcopy(model)
        out[f"{name}-torch"] = TorchEngine(m1, torch.optim.SGD(m1.parameters(), lr=0.01))
        out[f"{name}-fused"] = FusedEngine(m2, 0.01)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", default="16,256,1024,4096")
    p.add_argument("--samples", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    X, Y = torch.rand(a.samples, 784), torch.randint(0, 10, (a.samples,))
    order = torch.arange(a.samples)
    m = machine_info()
    print(f"# {m['cpu']}, {m['threads']} threads, torch {m['torch']}, {m['date']}")
    print(f"# command: python {' '.join(sys.argv)}")
    print("| H | contender | us/step | speed-up vs dense-torch |")
    print("|---:|---|---:|---:|")
    for H in [int(w) for w in a.widths.split(",")]:
        engines = contenders(H)
        for e in engines.values():
            e.train(X, Y, order[:20], 1)  # warm-up
        best = {k: float("inf") for k in engines}
        for _ in range(a.repeats):  # interleaved repetitions
            for k, e in engines.items():
                t0 = time.perf_counter()
                e.train(X, Y, order, 1)
                best[k] = min(best[k], (time.perf_counter() - t0) / a.samples)
        for k, t in best.items():
            print(f"| {H} | {k} | {t * 1e6:.1f} | {best['dense-torch'] / t:.1f}x |")


if __name__ == "__main__":
    main()
