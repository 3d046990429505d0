"""Early-bird: the draw happens exactly when a scripted mask sequence has been stable for W checks."""
import torch

from sparsenet.lottery.early_bird import EarlyBird, neuron_mask, units_to_weights
from sparsenet.models import MLP


def _m(bits):
    return {"w": torch.tensor(bits, dtype=torch.bool)}


def test_draw_when_max_of_last_window_distances_is_under_threshold():
    # 10 entries; distances: 0.5, 0.3, 0.2, 0.0, 0.0, 0.0 -> window 3, eps 0.1: queue (0,0,0) first
    # at the 7th mask (index 6).
    seq = [[0] * 10, [1] * 5 + [0] * 5, [1] * 8 + [0] * 2, [1] * 6 + [0] * 4,
           [1] * 6 + [0] * 4, [1] * 6 + [0] * 4, [1] * 6 + [0] * 4, [1] * 6 + [0] * 4]
    bird = EarlyBird(window=3, threshold=0.1)
    fired = [bird.update(_m(s)) for s in seq]
    assert fired.index(True) == 6
    assert bird.history[:4] == [0.5, 0.3, 0.2, 0.0]


def test_one_large_jump_in_the_window_delays_the_draw():
    seq = [[0] * 10, [0] * 10, [0] * 10, [1] * 10, [1] * 10, [1] * 10, [1] * 10]
    bird = EarlyBird(window=3, threshold=0.1)
    fired = [bird.update(_m(s)) for s in seq]
    # distances 0, 0, 1, 0, 0, 0: full window of zeros after masks 1,2 -> fires at index 3? no:
    # at index 3 the queue is (0, 0, 1): max 1 -> not drawn; first all-small window at index 6.
    assert fired == [False, False, False, False, False, False, True]


def test_neuron_mask_keeps_strongest_units_and_removes_rows_and_columns():
    net = MLP([2, 3, 2], activation="relu")
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 0.1], [1.0, 1.0]]))
    units = neuron_mask(net, rate=1 / 3)  # keep round(2/3 * 3) = 2 of 3: norms 3, 0.1, 1.41
    assert units["layers.0.weight"].tolist() == [True, False, True]
    w = units_to_weights(net, units)
    assert w["layers.0.weight"].tolist() == [[True, True], [False, False], [True, True]]
    assert w["layers.1.weight"].tolist() == [[True, False, True], [True, False, True]]
