"""The one optimizer factory."""
import pytest
import torch

from sparsenet.errors import SparsenetError
from sparsenet.train import make_optimizer, optimizer_names


def test_sgd_and_adam_with_their_settings():
    w = torch.nn.Parameter(torch.ones(2))
    sgd = make_optimizer("sgd", [w], lr=0.1, momentum=0.9, weight_decay=1e-3)
    assert isinstance(sgd, torch.optim.SGD)
    assert sgd.param_groups[0]["momentum"] == 0.9 and sgd.param_groups[0]["weight_decay"] == 1e-3
    adam = make_optimizer("adam", [w], lr=0.01, momentum=0.9, weight_decay=1e-4)  # momentum: SGD's only
    assert isinstance(adam, torch.optim.Adam) and adam.param_groups[0]["weight_decay"] == 1e-4
    # one plain SGD step by hand: w - lr * (g + wd * w), g = 2w for sum(w^2)
    (w ** 2).sum().backward()
    make_optimizer("sgd", [w], lr=0.5, weight_decay=0.5).step()
    torch.testing.assert_close(w.detach(), torch.tensor([1 - 0.5 * 2.5, 1 - 0.5 * 2.5]))


def test_unknown_optimizer_lists_the_valid_ones():
    assert optimizer_names() == ["adam", "sgd"]
    with pytest.raises(SparsenetError, match="unknown optimizer 'rmsprop'; valid optimizers: adam, sgd"):
        make_optimizer("rmsprop", [], lr=0.1)
