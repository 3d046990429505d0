"""Overhead of the k-winners activation against a plain ReLU, forward + backward, measured in one run.

Contenders on one (batch, n) float32 input that requires grad, each step = forward, sum, backward:

  relu                 torch.relu (the baseline; ratios are against it)
  kwinners k=p%        sparsenet.nn.KWinners, training mode (boosting + duty-cycle update)
  kwinners k=p% eval   the same layer in eval mode (k_inf = 1.5 k winners, no duty-cycle update)
  threshold np / topk  the k-th largest value per row alone (forward only): np.partition, which the
                       layer uses on CPU, against torch.topk

The contenders run interleaved; each time is the minimum over `--repeats` of the mean of `--steps`
steps after a warm-up.

    python benchmarks/kwinners_overhead.py [--batch 128] [--n 4096] [--percent 5,10,25] [--steps 50] [--repeats 5]
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from sparsenet.nn import KWinners
from sparsenet.nn.kwinners import kth_largest
from sparsenet.train import machine_info


def _step(fn, x):
    if isinstance(fn, tuple):  # a threshold alone: forward only, no autograd
        fn[0](x.detach(), fn[1])
        return
    x.grad = None
    fn(x).sum().backward()


def _topk_threshold(v, k):
    return torch.topk(v, k, dim=-1, sorted=False).values.amin(dim=-1, keepdim=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--percent", default="5,10,25", help="comma-separated percent_on values, in percent")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    torch.manual_seed(0)
    x = torch.randn(a.batch, a.n, requires_grad=True)
    contenders = {"relu": torch.relu}
    for p in (float(s) for s in a.percent.split(",")):
        contenders[f"kwinners k={p:g}%"] = KWinners(a.n, percent_on=p / 100).train()
        contenders[f"kwinners k={p:g}% eval"] = KWinners(a.n, percent_on=p / 100).eval()
        k = max(1, round(p / 100 * a.n))
        contenders[f"threshold np k={p:g}%"] = (kth_largest, k)
        contenders[f"threshold topk k={p:g}%"] = (_topk_threshold, k)
    best = {name: float("inf") for name in contenders}
    for fn in contenders.values():  # warm-up
        for _ in range(3):
            _step(fn, x)
    for _ in range(a.repeats):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            for _ in range(a.steps):
                _step(fn, x)
            best[name] = min(best[name], (time.perf_counter() - t0) / a.steps)
    info = machine_info()
    print(f"# {info['cpu']}, {info['threads']} threads, torch {info['torch']}, {info['date']}")
    print(f"# python {' '.join(sys.argv)}")
    print(f"{'contender':<24} {'ms/step':>8} {'x relu':>7}")
    for name, t in best.items():
        print(f"{name:<24} {t * 1e3:8.3f} {t / best['relu']:7.2f}")


if __name__ == "__main__":
    main()
