"""The tiled products against their panel-by-panel forms, with dense PyTorch in the same run.

One --size² layer (default 4096²) at each --densities, for each --batches: the forward
(W Xᵀ: dense `torch.mm`, `spmm`, `spmm_panel`) and the weight gradient (Gᵀ X on the pattern:
dense `torch.mm`, `sddmm`, `sddmm_panel`), called on numpy buffers as `NumbaBackend` calls them,
min over --reps calls in each of 3 interleaved rounds. Prints ms, × dense and the panel gain.

    python benchmarks/panel_products.py [--size 4096] [--batches 128,256] [--densities 0.1,0.05,0.01] [--threads 2]
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from _common import ints, min_ms

from sparsenet.kernels.codegen import load
from sparsenet.nn import SparseLinear
from sparsenet.train import machine_info


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--batches", type=ints, default=[128, 256])
    p.add_argument("--densities", type=lambda s: [float(v) for v in s.split(",")], default=[0.1, 0.05, 0.01])
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    import numba

    numba.set_num_threads(torch.get_num_threads())
    k = load()
    m = machine_info("cpu")
    print(f"{a.size}x{a.size}; {m.get('cpu')}, {torch.get_num_threads()} threads, torch {m.get('torch')}, {m.get('date')}")
    print("| B | density | dense fwd | spmm | spmm_panel | panel gain | dense dW | sddmm | sddmm_panel | panel gain |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    zero = np.float32(0)
    for B in a.batches:
        for d in a.densities:
            layer = SparseLinear.random(a.size, a.size, d, generator=torch.Generator().manual_seed(0))
            pat = layer.pattern
            ptr, idx = pat.crow.numpy(), pat.col.numpy()
            val, bias = layer.values.detach().numpy(), layer.bias.detach().numpy()
            W = layer.to_dense().detach()
            XT, GT = torch.randn(a.size, B), torch.randn(a.size, B)
            xt, gt = XT.numpy(), GT.numpy()
            y = np.empty((a.size, B), np.float32)
            dw = np.empty(idx.size, np.float32)
            calls = {
                "dense fwd": lambda: torch.mm(W, XT),
                "spmm": lambda: k.spmm(ptr, idx, val, xt, bias, True, y, zero),
                "spmm_panel": lambda: k.spmm_panel(ptr, idx, val, xt, bias, True, y, zero),
                "dense dW": lambda: torch.mm(GT, XT.t()),
                "sddmm": lambda: k.sddmm(ptr, idx, gt, xt, dw, zero),
                "sddmm_panel": lambda: k.sddmm_panel(ptr, idx, gt, xt, dw, zero),
            }
            for fn in calls.values():
                fn()  # compile / load, first touch
            ms = {n: float("inf") for n in calls}
            for _ in range(3):
                for n, fn in calls.items():
                    ms[n] = min(ms[n], min_ms(fn, a.reps))

            def cell(n, dense):
                return f"{ms[n]:.3g} ({ms[dense] / ms[n]:.2f}×)"
            print(f"| {B} | {d:g} | {ms['dense fwd']:.3g} | {cell('spmm', 'dense fwd')} | "
                  f"{cell('spmm_panel', 'dense fwd')} | {ms['spmm'] / ms['spmm_panel']:.2f} | {ms['dense dW']:.3g} | "
                  f"{cell('sddmm', 'dense dW')} | {cell('sddmm_panel', 'dense dW')} | {ms['sddmm'] / ms['sddmm_panel']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
