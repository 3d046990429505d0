"""Novelty: hand-computed k-nearest-neighbour distances, and the archive's rules (threshold,
adaptation by window, bounded size that forgets the most redundant entry)."""
import numpy as np
import pytest

from sparsenet.search.novelty import Archive, knn_novelty
from sparsenet.search.species import adjust_threshold, allot, compatibility, speciate
from sparsenet.search.genome import Genome


def pts(*xs):
    return np.array([[x, 0.0] for x in xs])


def test_knn_novelty_hand_computed():
    b = pts(0, 1, 3, 6)
    # k = 2: 0 -> {1, 3}: 2; 1 -> {0, 3}: 1.5; 3 -> {1, 0 or 6}: 2.5; 6 -> {3, 1}: 4
    np.testing.assert_allclose(knn_novelty(b, None, 2), [2.0, 1.5, 2.5, 4.0])
    # an archive point at 10 is a neighbour too: 6 -> {3, 10}: 3.5
    np.testing.assert_allclose(knn_novelty(b, pts(10), 2), [2.0, 1.5, 2.5, 3.5])
    # k larger than the others: the mean over all of them
    np.testing.assert_allclose(knn_novelty(b, None, 10), [10 / 3, 8 / 3, 8 / 3, 14 / 3])
    # 2-D Euclidean: (0,0), (3,4), (6,8); k = 1
    np.testing.assert_allclose(knn_novelty(np.array([[0, 0], [3, 4], [6, 8.0]]), None, 1), [5, 5, 5])
    assert knn_novelty(pts(5), None, 3).tolist() == [0.0]  # alone: nothing to differ from
    with pytest.raises(ValueError, match="k must be >= 1"):
        knn_novelty(b, None, 0)


def test_archive_adds_above_threshold_and_adapts_by_window():
    a = Archive(threshold=2.0, window=10)
    added = a.update(pts(0, 1, 2, 3, 4), np.array([1.0, 2.5, 2.0, 3.0, 0.5]))
    assert added.tolist() == [1, 3] and a.points[:, 0].tolist() == [1, 3]  # strictly above ρ_min
    assert a.threshold == 2.0  # window not complete (5 of 10 evaluations)
    a.update(pts(5, 6, 7, 8, 9), np.zeros(5))
    assert a.threshold == 2.0  # window of 10 complete with 2 added: neither none nor more than 4
    a.update(pts(*range(10)), np.zeros(10))
    assert a.threshold == pytest.approx(1.9)  # a window with no addition: -5%
    a.update(pts(*range(10)), np.full(10, 5.0))
    assert a.threshold == pytest.approx(1.9 * 1.2)  # more than four added: +20%
    assert len(a) == 12


def test_archive_forgets_the_most_redundant_entry_first():
    a = Archive(threshold=1.0, max_size=3)
    a.update(pts(0, 10, 10.5, 30), np.full(4, 5.0))
    assert sorted(a.points[:, 0].tolist()) == [0, 10, 30]  # 10 and 10.5 are the closest pair; the later goes
    back = Archive.from_state(a.state())
    assert back.state() == a.state()
    with pytest.raises(ValueError):
        Archive(threshold=0.0)


def g(innov, w):
    n = len(innov)
    return Genome(11, 2, [], np.zeros(n, np.int64), np.full(n, 11), np.asarray(w, float), np.asarray(innov))


def test_compatibility_hand_computed():
    a, b = g([0, 1, 2, 3], [1, 1, 1, 1]), g([0, 1, 5], [1.5, 0.5, 0])
    # unshared: 2, 3 (a) and 5 (b) = 3 over max(4, 3) = 4; mean |Δw| over 0, 1 = 0.5
    assert compatibility(a, b, c1=1.0, c3=3.0) == pytest.approx(3 / 4 + 3 * 0.5)
    assert compatibility(a, a) == 0


def test_speciate_and_allot():
    gs = [g([0, 1], [0, 0]), g([0, 1], [0.1, 0]), g([7, 8], [0, 0]), g([0, 1], [0, 0.1])]
    assert speciate(gs, [], 1.0) == [[0, 1, 3], [2]]
    assert speciate(gs, [gs[2]], 1.0) == [[2], [0, 1, 3]]
    assert allot(np.array([1.0, 3.0]), 10).tolist() == [3, 7]  # 2.5 / 7.5: largest remainder to the first
    assert allot(np.array([0.0, 0.0, 0.0]), 10).sum() == 10
    assert adjust_threshold(3.0, 20, 12) == 3.3 and adjust_threshold(0.4, 2, 12) == 0.3
