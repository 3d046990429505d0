"""dX = G W for small batches: the scatter through W's rows against the tiled W^T product, with
dense PyTorch in the same run.

One --size² layer (default 4096²) at each --densities, for each --batches (2..16): dense
`G @ W` (row-major G, as torch.nn.Linear's backward computes it), the tiled product through
W^T's pattern on values gathered into W^T's order (what batches 2..16 ran before), and the
scatter kernel `spmm_t_scatter*` that the numba backend runs now, both called as `NumbaBackend`
calls them; min over --reps calls in each of 3 interleaved rounds. Prints ms, × dense and the gain.

    python benchmarks/narrow_dx.py [--size 4096] [--batches 2,4,8,12,16] [--densities 0.1,0.01] [--threads 2]
"""
from __future__ import annotations

import argparse
import sys

import torch

from _common import ints, min_ms

from sparsenet.kernels.backends import BACKENDS
from sparsenet.nn import SparseLinear
from sparsenet.train import machine_info


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--batches", type=ints, default=[2, 4, 8, 12, 16])
    p.add_argument("--densities", type=lambda s: [float(v) for v in s.split(",")], default=[0.1, 0.01])
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args(argv)
    if not all(2 <= B <= 16 for B in a.batches):
        print(f"--batches {a.batches}: each must be 2..16 (the batches the scatter kernel serves)", file=sys.stderr)
        return 2
    if a.threads:
        torch.set_num_threads(a.threads)
    be = BACKENDS.get("numba")
    m = machine_info("cpu")
    print(f"{a.size}x{a.size}; {m.get('cpu')}, {torch.get_num_threads()} threads, torch {m.get('torch')}, {m.get('date')}")
    print("| B | density | dense G W | tiled W^T (gather + product) | scatter | × dense | gain |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for B in a.batches:
        for d in a.densities:
            layer = SparseLinear.random(a.size, a.size, d, generator=torch.Generator().manual_seed(0))
            pat, v = layer.pattern, layer.values
            W = layer.to_dense().detach()
            G = torch.randn(B, a.size, generator=torch.Generator().manual_seed(1))
            GT = G.t().contiguous()
            cases = {
                "dense": lambda: G @ W,
                "tiled": lambda: be._product(pat, True, be._values_t(pat, v), GT.numpy(), None),
                "scatter": lambda: be._scatter_t(pat, v, GT, False)[0],
            }
            torch.testing.assert_close(torch.from_numpy(cases["scatter"]()), torch.from_numpy(cases["tiled"]()),
                                       rtol=1e-4, atol=1e-4)
            for fn in cases.values():
                fn()
            ms = {k: float("inf") for k in cases}
            for _ in range(3):
                for k, fn in cases.items():
                    ms[k] = min(ms[k], min_ms(fn, a.reps))
            print(f"| {B} | {d} | {ms['dense']:.3f} | {ms['tiled']:.3f} | {ms['scatter']:.3f} | "
                  f"{ms['dense'] / ms['scatter']:.1f} | {ms['tiled'] / ms['scatter']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
