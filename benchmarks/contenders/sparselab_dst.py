"""One epoch of sparselab's SET or RigL (PyPI `sparselab`), run by benchmarks/dst_epoch.py in the
interpreter that has sparselab installed. Reads the data from .npy files, prints one JSON line.

    python sparselab_dst.py DATA_DIR {set,rigl} --densities 0.0455,0.04,0.04 --zeta 0.3 --delta-t 100
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("method", choices=("set", "rigl"))
    p.add_argument("--densities", required=True)
    p.add_argument("--sizes", default="784-1000-1000-1000-10")
    p.add_argument("--zeta", type=float, default=0.3)
    p.add_argument("--delta-t", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--steps", type=int, default=0)
    a = p.parse_args()
    import sparselab

    X = torch.from_numpy(np.load(f"{a.data}/x.npy"))
    Y = torch.from_numpy(np.load(f"{a.data}/y.npy"))
    order = torch.from_numpy(np.load(f"{a.data}/order.npy"))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB before the model exists
    sizes = [int(s) for s in a.sizes.split("-")]
    dens = [float(d) for d in a.densities.split(",")]
    torch.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        d = dens[i] if i < len(dens) else 1.0
        layers.append(nn.Linear(n_in, n_out) if d >= 1 else sparselab.SparseLinear(n_in, n_out, sparsity=1 - d))
    model = nn.Sequential(*[m for l in layers[:-1] for m in (l, nn.ReLU())], layers[-1])
    algo = (sparselab.SET if a.method == "set" else sparselab.RigL)(1 - dens[0], drop_fraction=a.zeta,
                                                                    update_freq=a.delta_t, seed=0)
    model.apply(algo)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9)
    steps = a.steps or order.numel() // a.batch_size
    live = sum(int(l.nnz) if hasattr(l, "nnz") else l.weight.numel() for l in layers)
    t0 = time.perf_counter()
    for s in range(steps):
        idx = order[s * a.batch_size:(s + 1) * a.batch_size]
        opt.zero_grad()
        F.cross_entropy(model(X[idx]), Y[idx]).backward()
        opt.step()
        algo.step()
    secs = time.perf_counter() - t0
    print(json.dumps({"seconds": secs, "steps": steps, "live": live,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "base_rss_mib": base}))


if __name__ == "__main__":
    main()
