"""The sample stream: which training examples each step sees.

Epoch e visits the training set in the order `randperm(N)` drawn from a generator seeded with
(seed, e); the stream is those permutations concatenated. A position in the stream is therefore
the only state needed to resume data order exactly (no RNG state to save).
"""
from __future__ import annotations

import torch


class SampleStream:
    """The order in which training examples are drawn: seeded epochs of permutations, addressable by position
    (so a resumed run draws exactly the examples an uninterrupted one would)."""

    def __init__(self, n: int, seed: int):
        if n <= 0:
            raise ValueError("empty training set")
        self.n = n
        self.seed = seed
        self._cache: dict[int, torch.Tensor] = {}

    def _perm(self, epoch: int) -> torch.Tensor:
        if epoch not in self._cache:
            if len(self._cache) > 4:
                self._cache.clear()
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._cache[epoch] = torch.randperm(self.n, generator=g)
        return self._cache[epoch]

    def take(self, start: int, count: int) -> torch.Tensor:
        """Indices at stream positions [start, start + count)."""
        parts, pos, end = [], start, start + count
        while pos < end:
            epoch, off = divmod(pos, self.n)
            k = min(end - pos, self.n - off)
            parts.append(self._perm(epoch)[off:off + k])
            pos += k
        return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.int64)
