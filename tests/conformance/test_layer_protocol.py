"""Conformance: every registered layer kind (`sparsenet.masks.layers.LAYERS`) keeps the sparse-layer
protocol: dense view and mask agree with the module's own forward, shrink/grow change exactly the
named connections, survivors keep their optimizer state and new connections start at zero, and
masks / `prune` / rewinding work through it. A new kind is tested by registering it."""
import pytest
import torch
import torch.nn.functional as F

import sparsenet.nn  # noqa: F401  (registers SparseLinear's view)
from sparsenet.errors import SparsenetError
from sparsenet.lottery.imp import rewind
from sparsenet.masks import apply_masks, enforce_masks, prunable_names, starting_masks
from sparsenet.masks.layers import LAYERS, layer_view
from sparsenet.prune.api import prune

KINDS = LAYERS.names()


def _example(kind, seed=0):
    module, x = LAYERS.get(kind).example(torch.Generator().manual_seed(seed))
    return module, x, layer_view(module)


def _dense_forward(module, view, x):
    """The layer's output computed from its dense view, with torch's dense ops."""
    w = view.dense_weight()
    bias = getattr(module, "bias", None)
    if w.dim() == 2:
        return F.linear(x, w, bias)
    return module._conv_forward(x, w, bias)


def _masked(module, view):
    """Put a dense layer under an enforced mask: only then does it hold a pattern (without one,
    every connection is live, and shrinking only zeroes weights for a caller who holds the mask)."""
    if view.native:
        return enforce_masks(module, {"weight": torch.ones(view.shape, dtype=torch.bool)})
    return None


def test_registry_lists_the_three_kinds():
    assert {"linear", "conv", "sparse_linear"} <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_view_is_found_and_its_dense_weight_reproduces_the_forward(kind):
    module, x, view = _example(kind)
    assert view is not None and type(view) is LAYERS.get(kind).view
    m = view.mask()
    assert m.dtype == torch.bool and m.shape == view.shape
    assert view.nnz() == int(m.sum())
    w = view.dense_weight()
    assert w.shape == view.shape and not bool(w[~m].any())
    torch.testing.assert_close(module(x), _dense_forward(module, view, x))


@pytest.mark.parametrize("kind", KINDS)
def test_shrink_drops_exactly_the_named_connections_and_keeps_the_rest(kind):
    module, x, view = _example(kind)
    _masked(module, view)
    before, m0 = view.dense_weight().clone(), view.mask()
    keep = torch.rand(view.shape, generator=torch.Generator().manual_seed(3)) < 0.6
    view.shrink_(keep)
    m1 = view.mask()
    assert torch.equal(m1, m0 & keep)
    w = view.dense_weight()
    torch.testing.assert_close(w[m1], before[m1])
    assert not bool(w[~m1].any())
    torch.testing.assert_close(module(x), _dense_forward(module, view, x))


@pytest.mark.parametrize("kind", KINDS)
def test_grow_adds_connections_at_their_values_and_keeps_live_ones(kind):
    module, x, view = _example(kind)
    _masked(module, view)
    view.shrink_(torch.rand(view.shape, generator=torch.Generator().manual_seed(1)) < 0.3)
    m0, w0 = view.mask(), view.dense_weight().clone()
    new = torch.rand(view.shape, generator=torch.Generator().manual_seed(2)) < 0.4
    vals = torch.full(view.shape, 0.5)
    view.grow_(new, vals)
    m1, w1 = view.mask(), view.dense_weight()
    assert torch.equal(m1, m0 | new)
    torch.testing.assert_close(w1[m0], w0[m0])  # live ones keep their value
    born = new & ~m0
    assert bool(born.any())
    torch.testing.assert_close(w1[born], vals[born])
    torch.testing.assert_close(module(x), _dense_forward(module, view, x))
    view.grow_(new & ~m1 | (torch.rand(view.shape, generator=torch.Generator().manual_seed(4)) < 0.2))
    assert bool((view.dense_weight()[view.mask() & ~m1] == 0).all())  # default: new start at 0


@pytest.mark.parametrize("opt_name", ["momentum", "adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_pattern_updates_keep_survivor_state_and_zero_new_state(kind, opt_name):
    module, x, view = _example(kind)
    handle = _masked(module, view)
    p = view.parameter
    opt = (torch.optim.SGD([p], lr=0.1, momentum=0.9) if opt_name == "momentum"
           else torch.optim.Adam([p], lr=0.01))
    for _ in range(2):
        opt.zero_grad()
        module(x).square().sum().backward()
        opt.step()
    key = "momentum_buffer" if opt_name == "momentum" else "exp_avg"

    def dense_state():
        t = opt.state[p][key]
        if view.native:
            return t.clone()
        out = torch.zeros(view.shape)
        out[view.mask()] = t  # CSR values are row-major, like boolean indexing
        return out

    s0, m0 = dense_state(), view.mask()
    keep = torch.rand(view.shape, generator=torch.Generator().manual_seed(5)) < 0.5
    view.shrink_(keep, optimizer=opt)
    m1 = view.mask()
    s1 = dense_state()
    torch.testing.assert_close(s1[m1], s0[m1])
    new = ~m1 & (torch.rand(view.shape, generator=torch.Generator().manual_seed(6)) < 0.5)
    view.grow_(new, optimizer=opt)
    m2 = view.mask()
    s2 = dense_state()
    torch.testing.assert_close(s2[m1], s0[m1])
    assert bool(new.any()) and not bool(s2[new].any())
    opt.zero_grad()
    module(x).square().sum().backward()
    opt.step()  # the optimizer still steps the same parameter object
    assert torch.equal(view.mask(), m2)
    if handle is not None:
        handle.remove()


@pytest.mark.parametrize("kind", KINDS)
def test_bad_masks_are_refused_in_one_line(kind):
    module, x, view = _example(kind)
    with pytest.raises(SparsenetError, match="shape"):
        view.shrink_(torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(SparsenetError, match="bool"):
        view.grow_(torch.ones(view.shape))


@pytest.mark.parametrize("kind", KINDS)
def test_prune_masks_and_rewind_go_through_the_view(kind):
    module, x, view = _example(kind)
    theta0 = {k: v.clone() for k, v in module.state_dict().items()}
    (name,) = prunable_names(module)
    assert name == "weight"
    masks = prune(module, "magnitude", 0.75, force=True)  # amount: a fraction of the dense weight
    assert view.nnz() == int(masks[name].sum()) == round(0.25 * view.shape.numel())
    assert torch.equal(starting_masks(module)[name], view.mask())  # the current mask, for any kind
    with torch.no_grad():
        view.parameter.add_(1.0)
    rewind(module, theta0, dict(masks))
    m = view.mask()
    assert torch.equal(m, masks[name])
    want = theta0["weight"].masked_fill(~m, 0)
    torch.testing.assert_close(view.dense_weight(), want)
    apply_masks(module, {name: torch.zeros(view.shape, dtype=torch.bool)})  # all pruned
    assert view.nnz() == 0
    assert not bool(view.dense_weight().any())
    torch.testing.assert_close(module(x), _dense_forward(module, view, x))


@pytest.mark.parametrize("kind", KINDS)
def test_live_access_agrees_with_the_dense_view(kind):
    module, x, view = _example(kind)
    _masked(module, view)
    view.shrink_(torch.rand(view.shape, generator=torch.Generator().manual_seed(8)) < 0.5)
    keys = view.live_keys()
    assert keys.dtype == torch.int64 and bool((keys[1:] > keys[:-1]).all())
    assert torch.equal(keys, view.mask().reshape(-1).nonzero().squeeze(1))
    torch.testing.assert_close(view.live_values(), view.dense_weight().reshape(-1)[keys])
    opt = torch.optim.SGD([view.parameter], lr=0.1, momentum=0.9)
    module(x).square().sum().backward()
    opt.step()
    mom = view.live_state(opt, "momentum_buffer")
    assert mom.shape == keys.shape
    drop = torch.zeros(keys.numel(), dtype=torch.bool)
    drop[::3] = True
    survivors = keys[~drop]
    kept_mom = mom[~drop].clone()
    view.drop_(drop, optimizer=opt)
    assert torch.equal(view.live_keys(), survivors)
    torch.testing.assert_close(view.live_state(opt, "momentum_buffer"), kept_mom)
    free = (~view.mask()).reshape(-1).nonzero().squeeze(1)[:4]
    view.grow_keys_(free, torch.tensor([1.0, 2.0, 3.0, 4.0]), optimizer=opt)
    live = view.live_keys()
    assert bool(torch.isin(free, live).all()) and live.numel() == survivors.numel() + 4
    w = view.dense_weight().reshape(-1)
    assert w[free].tolist() == [1.0, 2.0, 3.0, 4.0]
    new_mom = view.live_state(opt, "momentum_buffer")[torch.isin(live, free)]
    assert not bool(new_mom.any())
    torch.testing.assert_close(module(x), _dense_forward(module, view, x))
