"""Masks enforced in a plain user loop (no library engine), without renaming parameters."""
import copy

import pytest
import torch
from torch import nn

from sparsenet.errors import SparsenetError
from sparsenet.masks import MaskHandle, enforce_masks, enforced_masks
from sparsenet.prune import MaskHook, prune


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10))


def _step(net, opt, x, y):
    opt.zero_grad()
    nn.functional.cross_entropy(net(x), y).backward()
    opt.step()


def _pruned_nonzero(net, masks) -> int:
    params = dict(net.named_parameters())
    return sum(int((params[n].detach()[~m] != 0).sum()) for n, m in masks.items())


def _data():
    g = torch.Generator().manual_seed(1)
    return torch.randn(32, 8, generator=g), torch.randint(0, 10, (32,), generator=g)


def test_control_without_enforcement_pruned_weights_move():
    # The defect of issue 10: zeroing once is not enough with Adam + weight decay.
    net, (x, y) = _net(), _data()
    opt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=0.1)
    _step(net, opt, x, y)  # moments built up before pruning
    masks = prune(net, "magnitude", 0.8, enforce=False)
    assert not masks.active and _pruned_nonzero(net, masks) == 0
    for _ in range(3):
        _step(net, opt, x, y)
    assert _pruned_nonzero(net, masks) > 0


def test_pruned_sequential_keeps_exact_zeros_in_a_plain_adam_loop():
    net, (x, y) = _net(), _data()
    opt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=0.1)
    _step(net, opt, x, y)  # Adam moments are nonzero everywhere before pruning
    masks = prune(net, "magnitude", 0.8)
    assert isinstance(masks, MaskHandle) and masks.active
    n_pruned = sum(int((~m).sum()) for m in masks.values())
    assert n_pruned == round(0.8 * (8 * 16)) + round(0.8 * (16 * 10))
    for _ in range(5):
        _step(net, opt, x, y)
        out = net(x)  # every forward sees exact zeros at the pruned entries
        assert _pruned_nonzero(net, masks) == 0
        assert torch.isfinite(out).all()
    # the gradients of pruned entries are exactly zero
    for n, p in net.named_parameters():
        if n in masks:
            assert bool((p.grad[~masks[n]] == 0).all())
    # plain names: strict load into an unpruned model
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    fresh = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10))
    fresh.load_state_dict(net.state_dict(), strict=True)
    assert torch.equal(fresh(x), net(x))
    # after remove() the weights are free again
    masks.remove()
    assert not masks.active and enforced_masks(net) == {}
    assert all(len(m._forward_pre_hooks) == 0 for m in net)
    for _ in range(3):
        _step(net, opt, x, y)
    assert _pruned_nonzero(net, masks) > 0


def test_optimizer_hook_zeroes_right_after_each_step():
    net, (x, y) = _net(), _data()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    _step(net, opt, x, y)
    masks = prune(net, "magnitude", 0.5, optimizer=opt)
    for _ in range(3):
        _step(net, opt, x, y)
        assert _pruned_nonzero(net, masks) == 0  # no forward in between: the step hook did it
    masks.remove()
    _step(net, opt, x, y)
    assert _pruned_nonzero(net, masks) > 0


def test_gradient_of_pruned_entries_is_zero_by_hand():
    lin = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        lin.weight.fill_(1.0)
    m = torch.tensor([[True, False], [False, True]])
    with enforce_masks(lin, {"weight": m}) as h:
        assert lin.weight.tolist() == [[1.0, 0.0], [0.0, 1.0]]
        lin(torch.tensor([[3.0, 5.0]])).sum().backward()
        # d(sum)/dW = x for every row; pruned entries get 0
        assert lin.weight.grad.tolist() == [[3.0, 0.0], [0.0, 5.0]]
        assert h.active
    assert not h.active and len(lin._forward_pre_hooks) == 0
    lin.weight.grad = None
    lin(torch.tensor([[3.0, 5.0]])).sum().backward()
    assert lin.weight.grad.tolist() == [[3.0, 5.0], [3.0, 5.0]]


def test_pruning_again_replaces_the_enforced_masks_without_stacking_hooks():
    net, (x, y) = _net(), _data()
    first = prune(net, "magnitude", 0.5)
    second = prune(net, "magnitude", 0.8, masks=first)
    assert all(len(m._forward_pre_hooks) <= 1 for m in net)
    assert {n: m.tolist() for n, m in enforced_masks(net).items()} == {n: m.tolist() for n, m in second.items()}
    first.remove()  # superseded: removing it leaves the newer masks on
    assert set(enforced_masks(net)) == set(second)
    opt = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)
    for _ in range(3):
        _step(net, opt, x, y)
    net(x)
    assert _pruned_nonzero(net, second) == 0
    second.remove()
    assert enforced_masks(net) == {}


def test_deepcopy_keeps_enforcing_on_the_copy():
    net, (x, y) = _net(), _data()
    masks = prune(net, "magnitude", 0.7)
    twin = copy.deepcopy(net)
    opt = torch.optim.SGD(twin.parameters(), lr=0.5, momentum=0.9)
    for _ in range(3):
        _step(twin, opt, x, y)
    twin(x)
    assert _pruned_nonzero(twin, masks) == 0
    masks.remove()  # the original's handle does not touch the copy
    assert set(enforced_masks(twin)) == set(masks)


def test_two_forwards_before_one_backward_work():
    net, (x, y) = _net(), _data()
    prune(net, "magnitude", 0.5)
    loss = net(x).sum() + net(x).sum()  # the pre-hook must not write in place between them
    loss.backward()


def test_mask_hook_engine_form_still_keeps_zeros():
    from sparsenet.train import TorchEngine

    net, (x, y) = _net(), _data()
    masks = dict(prune(net, "magnitude", 0.6, enforce=False))
    opt = torch.optim.Adam(net.parameters(), lr=0.05, weight_decay=0.1)
    engine = TorchEngine(net, opt, hooks=[MaskHook(masks)])
    engine.train(x, y, torch.arange(32), 8)
    assert _pruned_nonzero(net, masks) == 0


def test_bad_masks_are_one_line_errors():
    net = _net()
    with pytest.raises(SparsenetError, match="names no parameter"):
        enforce_masks(net, {"9.weight": torch.ones(2, dtype=torch.bool)})
    with pytest.raises(SparsenetError, match="shape"):
        enforce_masks(net, {"0.weight": torch.ones(2, 2, dtype=torch.bool)})
    with pytest.raises(SparsenetError, match="optimizer must be"):
        enforce_masks(net, {"0.weight": torch.ones(16, 8, dtype=torch.bool)}, optimizer="adam")


def test_enforcing_again_on_a_copy_and_removing_leaves_no_hook():
    net = _net()
    twin = copy.deepcopy(prune(net, "magnitude", 0.5) and net)
    h = enforce_masks(twin, {"0.weight": torch.ones(16, 8, dtype=torch.bool)})
    assert len(twin[0]._forward_pre_hooks) == 1  # the copied enforcer is reused, not stacked
    h.remove()
    assert len(twin[0]._forward_pre_hooks) == 0 and len(twin[2]._forward_pre_hooks) == 1
