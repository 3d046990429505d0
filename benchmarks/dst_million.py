"""A truly sparse SET-MLP with a million hidden neurons, trained on one laptop-class CPU.

Fashion-MNIST 784-H-H-H-10 (default H = 333334, so 3H > 10⁶ hidden neurons) with Erdős–Rényi
layers at ε (density ε(n_in+n_out)/(n_in·n_out); the 10-unit output layer would exceed 100% and is
dense), trained with SET (`sparsenet.dst.DSTHook`, ζ = 0.3 every --delta-t steps, the paper's
signed drop rule, random regrowth) on SparseLinear layers, SGD momentum 0.9. Prints and writes
(--out, JSON) seconds per epoch (training steps and pattern updates apart), peak RSS, live weights,
the dense equivalent's weight memory, and test accuracy after each epoch.

    python benchmarks/dst_million.py [--hidden 333334] [--epsilon 20] [--epochs 1] [--out FILE]
    python benchmarks/dst_million.py --quick      # 3 x 33334 hidden neurons, 200 steps
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from sparsenet.data import load_dataset
from sparsenet.dst import DSTHook, er_density
from sparsenet.nn import SparseLinear
from sparsenet.train import StepContext, TorchEngine, machine_info
from sparsenet.train.loop import evaluate


class Net(nn.Module):
    def __init__(self, sizes, epsilon, g):
        super().__init__()
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            d = er_density(n_in, n_out, epsilon)
            layers.append(nn.Linear(n_in, n_out) if d >= 1 else SparseLinear.random(n_in, n_out, d, generator=g))
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        for i, l in enumerate(self.layers):
            x = l(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=333334)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--epsilon", type=float, default=20)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: full epochs)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--zeta", type=float, default=0.3)
    p.add_argument("--delta-t", type=int, default=235, help="steps between SET updates (235 = twice an epoch)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="3 x 33334 hidden neurons, 200 steps")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    if a.quick:
        a.hidden, a.max_steps, a.delta_t = 33334, 200, 50
    if a.threads:
        torch.set_num_threads(a.threads)
    data = load_dataset("fashion-mnist")
    X, Xt = data.x_train.reshape(data.x_train.shape[0], -1), data.x_test.reshape(data.x_test.shape[0], -1)
    Y, Yt = data.y_train, data.y_test
    sizes = [784] + [a.hidden] * a.layers + [10]
    torch.manual_seed(0)
    t0 = time.perf_counter()
    model = Net(sizes, a.epsilon, torch.Generator().manual_seed(0))
    build_s = time.perf_counter() - t0
    live = [l.nnz if isinstance(l, SparseLinear) else l.weight.numel() for l in model.layers]
    dense_weights = sum(i * o for i, o in zip(sizes[:-1], sizes[1:]))
    print(f"{'-'.join(map(str, sizes))}: {sum(sizes[1:-1]):,} hidden neurons, {sum(live):,} live weights "
          f"(per layer {live}); dense equivalent {dense_weights:,} weights = {4 * dense_weights / 2**30:.1f} GiB "
          f"of float32; built in {build_s:.1f} s, RSS {rss_gib():.2f} GiB", flush=True)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9)
    steps_per_epoch = X.shape[0] // a.batch_size
    total = a.max_steps or a.epochs * steps_per_epoch
    sparse_names = [f"layers.{i}.weight" for i, l in enumerate(model.layers) if isinstance(l, SparseLinear)]
    hook = DSTHook(model, "set", zeta=a.zeta, delta_t=a.delta_t, end_step=total, steps=total, seed=0,
                   layers=sparse_names)
    engine = TorchEngine(model, opt, hooks=[hook])
    c = StepContext(model, opt)
    hook.on_start(c)
    g = torch.Generator().manual_seed(0)
    rows, done = [], 0
    while done < total:
        n = min(steps_per_epoch, total - done)
        order = torch.randperm(X.shape[0], generator=g)[: n * a.batch_size]
        upd0 = hook.update_seconds
        t0 = time.perf_counter()
        engine.train(X, Y, order, a.batch_size, context=c)
        secs = time.perf_counter() - t0
        done += n
        acc = evaluate(model, Xt, Yt, batch=500)["accuracy"]
        upd = hook.update_seconds - upd0
        row = {"steps": done, "seconds": secs, "update_seconds": upd, "step_seconds": secs - upd,
               "ms_per_step": 1000 * (secs - upd) / n, "test_accuracy": acc, "peak_rss_gib": rss_gib(),
               "live": sum(l.nnz if isinstance(l, SparseLinear) else l.weight.numel() for l in model.layers)}
        rows.append(row)
        print(f"steps {done}/{total}: {secs:.1f} s ({secs - upd:.1f} s training steps, {upd:.1f} s in "
              f"{len([h for h in hook.history])} pattern updates so far), test accuracy {100 * acc:.2f}%, "
              f"peak RSS {rss_gib():.2f} GiB", flush=True)
    result = {"sizes": sizes, "epsilon": a.epsilon, "batch_size": a.batch_size, "lr": a.lr, "zeta": a.zeta,
              "delta_t": a.delta_t, "live_initial": live, "dense_weights": dense_weights,
              "dense_weight_gib": 4 * dense_weights / 2 ** 30, "epochs": rows, "updates": hook.history,
              "machine": machine_info("cpu"), "command": " ".join(["python", *sys.argv])}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
