"""A whole MLP training step (784-4096-4096-10, relu, cross-entropy, SGD) at 90% and 99% sparsity,
batch 128 and batch 1, against dense PyTorch in the same run. Same as `sparsenet bench --suite mlp`.

    python benchmarks/mlp_step.py [--out runs/bench-mlp] [--repeats 5] [any `sparsenet bench` flag]
"""
import sys

from sparsenet.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--suite", "mlp", "--out", "runs/bench-mlp", *sys.argv[1:]]))
