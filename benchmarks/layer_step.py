"""One linear layer's training step (fwd, dX, dW, SGD update, total) for every contender at
shapes 4096x4096 (B=128, 32, 1) and 1024x1024 (B=128), densities 0.10/0.05/0.02/0.01, with
ratios against dense PyTorch measured in the same run. Same as `sparsenet bench --suite layer`.

    python benchmarks/layer_step.py [--out runs/bench-layer] [--repeats 5] [any `sparsenet bench` flag]
"""
import sys

from sparsenet.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--suite", "layer", "--out", "runs/bench-layer", *sys.argv[1:]]))
