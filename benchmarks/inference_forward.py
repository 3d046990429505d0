"""A magnitude-pruned MLP's forward under torch.no_grad(): LeNet-300-100 and 784-4096-4096-10 at
sparsities 0.90/0.95/0.99 and batch 1/32/256, for dense PyTorch (the pruned nn.Linear layers),
torch.sparse, sparsenet (`sparsify`) and the same model read back from its compact checkpoint,
with ratios against dense measured in the same run. Same as `sparsenet bench --suite inference`.

    python benchmarks/inference_forward.py [--out runs/bench-inference] [any `sparsenet bench` flag]
"""
import sys

from sparsenet.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--suite", "inference", "--out", "runs/bench-inference", *sys.argv[1:]]))
