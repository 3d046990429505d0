"""Speciation (NEAT, Stanley & Miikkulainen 2002): genomes that share structure compete mostly
among themselves, so a new connection or node survives the generations it needs to be tuned.

Compatibility of two genomes, aligned by innovation number: ``δ = c1 · N / max(C_a, C_b) + c3 · W̄``
with N the connections only one of them has and W̄ the mean weight difference of the shared ones
(NEAT's disjoint and excess genes, counted together). Each genome joins the first species whose
representative (a member of the previous generation) is within the threshold, or founds a new one.
The threshold moves by a step each generation towards `target` species. Offspring are shared out
in proportion to each species' mean score (explicit fitness sharing), by largest remainders.
"""
from __future__ import annotations

import numpy as np

from .genome import Genome


def compatibility(a: Genome, b: Genome, c1: float = 1.0, c3: float = 3.0) -> float:
    ia, ib = a.innovation, b.innovation
    shared, pa, pb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
    n = max(len(ia), len(ib), 1)
    unshared = len(ia) + len(ib) - 2 * len(shared)
    w = float(np.abs(a.weight[pa] - b.weight[pb]).mean()) if len(shared) else 0.0
    return c1 * unshared / n + c3 * w


def speciate(genomes: list[Genome], representatives: list[Genome], threshold: float) -> list[list[int]]:
    """Member indices of each species, in the order of `representatives` (empty species removed),
    then the new ones."""
    reps = list(representatives)
    members: list[list[int]] = [[] for _ in reps]
    for i, g in enumerate(genomes):
        for s, r in enumerate(reps):
            if compatibility(g, r) < threshold:
                members[s].append(i)
                break
        else:
            reps.append(g)
            members.append([i])
    return [m for m in members if m]


def adjust_threshold(threshold: float, n_species: int, target: int, step: float = 0.3, floor: float = 0.3) -> float:
    if n_species > target:
        return threshold + step
    if n_species < target:
        return max(floor, threshold - step)
    return threshold


def allot(means: np.ndarray, total: int) -> np.ndarray:
    """Offspring per species ∝ its mean score (scores ≥ 0; all zero: equal shares), summing to `total`."""
    means = np.maximum(np.asarray(means, np.float64), 0.0)
    share = np.full(len(means), 1.0 / len(means)) if means.sum() <= 0 else means / means.sum()
    raw = share * total
    out = np.floor(raw).astype(np.int64)
    rest = total - int(out.sum())
    if rest:
        out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


__all__ = ["adjust_threshold", "allot", "compatibility", "speciate"]
