"""Novelty (Lehman & Stanley 2011, Section 3): the sparseness of a behaviour among the others.

``novelty(b) = mean distance from b to its k nearest neighbours`` among the current population (b
itself excluded) and the archive. The archive keeps behaviours that were novel when seen: an
individual whose novelty exceeds the threshold ρ_min joins it. ρ_min adapts: after every window
of evaluations it is lowered by 5% when nothing joined and raised by 20% when more than four did
(the paper's rule). The archive is bounded: past `max_size` the entry closest to another entry
(the most redundant one) is forgotten first, so a full archive still spreads over behaviour space.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def knn_novelty(behaviours: np.ndarray, archive: np.ndarray | None, k: int) -> np.ndarray:
    """Mean Euclidean distance from each row of `behaviours` (P, d) to its k nearest neighbours among
    the other rows and the archive's rows (A, d); fewer neighbours than k: the mean over all."""
    if k <= 0:
        raise ValueError(f"k must be >= 1, got {k}")
    b = np.asarray(behaviours, np.float64)
    ref = b if archive is None or len(archive) == 0 else np.concatenate([b, np.asarray(archive, np.float64)])
    d = np.sqrt(((b[:, None, :] - ref[None, :, :]) ** 2).sum(-1))
    d[np.arange(len(b)), np.arange(len(b))] = np.inf  # not its own neighbour
    m = ref.shape[0] - 1
    if m <= 0:
        return np.zeros(len(b))
    kk = min(k, m)
    near = np.partition(d, kk - 1, axis=1)[:, :kk]
    return near.mean(axis=1)


@dataclass
class Archive:
    """The novelty archive: adaptive threshold ρ_min, bounded size (see the module docstring)."""

    threshold: float              # ρ_min
    window: int = 2500            # evaluations between threshold adjustments
    max_size: int = 5000
    lower: float = 0.95           # × ρ_min after a window with no addition
    raise_by: float = 1.2         # × ρ_min after a window with more than `crowd` additions
    crowd: int = 4
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    added_in_window: int = 0
    evaluations_in_window: int = 0

    def __post_init__(self):
        if not self.threshold > 0:
            raise ValueError(f"archive threshold must be > 0, got {self.threshold}")
        if self.max_size < 1 or self.window < 1:
            raise ValueError("archive max_size and window must be >= 1")
        self.points = np.asarray(self.points, np.float64).reshape(-1, 2) if self.points.size else np.zeros((0, 2))

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def update(self, behaviours: np.ndarray, novelty: np.ndarray) -> np.ndarray:
        """Add the behaviours whose novelty exceeds ρ_min (in order); count the evaluations and adapt
        ρ_min at each completed window; return the indices added."""
        added = np.flatnonzero(np.asarray(novelty) > self.threshold)
        if len(added):
            self.points = np.concatenate([self.points, np.asarray(behaviours, np.float64)[added]])
            self._forget()
        self.added_in_window += len(added)
        self.evaluations_in_window += len(novelty)
        while self.evaluations_in_window >= self.window:
            self.evaluations_in_window -= self.window
            if self.added_in_window == 0:
                self.threshold *= self.lower
            elif self.added_in_window > self.crowd:
                self.threshold *= self.raise_by
            self.added_in_window = 0
        return added

    def _forget(self) -> None:
        while len(self) > self.max_size:
            p = self.points
            d = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1))
            np.fill_diagonal(d, np.inf)
            extra = len(self) - self.max_size
            # the most redundant entries: those whose nearest other entry is closest (later first on ties)
            nearest = d.min(axis=1)
            order = np.lexsort((-np.arange(len(p)), nearest))
            drop = order[:1] if extra == 1 else order[:1]
            self.points = np.delete(p, drop, axis=0)

    def state(self) -> dict:
        return {"threshold": self.threshold, "window": self.window, "max_size": self.max_size, "lower": self.lower,
                "raise_by": self.raise_by, "crowd": self.crowd, "points": self.points.tolist(),
                "added_in_window": self.added_in_window, "evaluations_in_window": self.evaluations_in_window}

    @classmethod
    def from_state(cls, s: dict) -> "Archive":
        s = dict(s)
        s["points"] = np.asarray(s["points"], np.float64).reshape(-1, 2)
        return cls(**s)


__all__ = ["Archive", "knn_novelty"]
