"""Zhou et al. mask criteria by hand, and supermask evaluation without training."""
import pytest
import torch

from sparsenet.errors import SparsenetError
from sparsenet.lottery import mask_scores, supermask_accuracy
from sparsenet.models import MLP

WI = {"w": torch.tensor([1.0, -1.0, 2.0, -2.0])}
WF = {"w": torch.tensor([3.0, 3.0, -1.0, -4.0])}


@pytest.mark.parametrize("name, expected", [
    ("large_final", [3, 3, 1, 4]),
    ("small_final", [-3, -3, -1, -4]),
    ("large_init", [1, 1, 2, 2]),
    ("large_final_same_sign", [3, 0, 0, 4]),
    ("magnitude_increase", [2, 2, -1, 2]),
    ("large_movement", [2, 4, 3, 2]),  # the paper's "movement", |w_f - w_i|
])
def test_scores_by_hand(name, expected):
    torch.testing.assert_close(mask_scores(name, WI, WF, ["w"])["w"], torch.tensor(expected, dtype=torch.float32))


def test_random_scores_depend_on_seed_only():
    a = mask_scores("random", WI, WF, ["w"], seed=1)["w"]
    assert torch.equal(a, mask_scores("random", WI, WF, ["w"], seed=1)["w"])
    assert not torch.equal(a, mask_scores("random", WI, WF, ["w"], seed=2)["w"])


def test_the_papers_movement_name_says_its_new_name():
    with pytest.raises(SparsenetError, match="^ticket criterion 'movement' is now called 'large_movement'; "
                                             "valid ticket criteria: .*large_final"):
        mask_scores("movement", WI, WF, ["w"])


def test_unknown_criterion_lists_valid_ones():
    with pytest.raises(SparsenetError, match="large_final_same_sign"):
        mask_scores("biggest", WI, WF, ["w"])


def test_supermask_is_evaluated_on_masked_init_without_training():
    net = MLP([2, 2], activation="relu")
    init = {"layers.0.weight": torch.tensor([[2.0, -5.0], [-1.0, 3.0]]), "layers.0.bias": torch.zeros(2)}
    mask = {"layers.0.weight": torch.tensor([[True, False], [False, True]])}
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # masked: out = (2 x0, 3 x1) -> argmax 0, 1, 1 ; unmasked init would give 0, 1, 1 too, so
    # use labels that only the masked net gets all right
    m = supermask_accuracy(net, init, mask, (X, torch.tensor([0, 1, 1])), "init")
    assert m["accuracy"] == 1.0
    assert torch.equal(net.layers[0].weight.detach(), torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
    # signed constant: a = std of the init layer, signs of init -> (a x0, a x1): ties -> class 0
    supermask_accuracy(net, init, mask, (X, torch.tensor([0, 1, 0])), "constant")
    a = float(init["layers.0.weight"].std())
    torch.testing.assert_close(net.layers[0].weight.detach(), torch.tensor([[a, 0.0], [0.0, a]]))
