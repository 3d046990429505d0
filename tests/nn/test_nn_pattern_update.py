"""SparseLinear pattern updates (shrink / grow) against a dense masked nn.Linear reference:
outputs, gradients and one optimizer step (SGD momentum, Adam) after the update."""
import copy

import pytest
import torch

from sparsenet.errors import SparsenetError
from sparsenet.nn import SparseLinear


def _layer(seed=0, out_f=5, in_f=7, density=0.6, kernel="reference"):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(out_f, in_f, generator=g)
    mask = torch.rand(out_f, in_f, generator=g) < density
    mask[2] = False  # an empty row
    return SparseLinear.from_dense(w, torch.randn(out_f, generator=g), mask, kernel=kernel), w * mask


def _dense(layer):
    return layer.to_linear()


def _check_same(layer, batch):
    x = torch.randn(batch, layer.in_features, generator=torch.Generator().manual_seed(3))
    lin = _dense(layer)
    y, y_ref = layer(x), lin(x)
    torch.testing.assert_close(y, y_ref)
    y.square().sum().backward()
    y_ref.square().sum().backward()
    dense_grad = torch.zeros_like(lin.weight)
    dense_grad[layer.row, layer.col.long()] = layer.values.grad
    torch.testing.assert_close(dense_grad, lin.weight.grad * layer.mask())
    torch.testing.assert_close(layer.bias.grad, lin.bias.grad)


@pytest.mark.parametrize("kernel", ["reference", "auto"])
@pytest.mark.parametrize("batch", [1, 4])
def test_shrink_with_dense_and_value_masks_matches_the_masked_dense_layer(batch, kernel):
    layer, w = _layer(kernel=kernel)
    layer(torch.randn(2, layer.in_features))  # kernels built for the old pattern must not be reused
    keep = torch.rand(layer.out_features, layer.in_features, generator=torch.Generator().manual_seed(1)) < 0.5
    before = layer.mask()
    param = layer.values
    layer.shrink(keep)
    assert layer.values is param  # the same Parameter: optimizers keep holding it
    assert torch.equal(layer.mask(), before & keep)
    assert torch.equal(layer.to_dense(), w * (before & keep))
    _check_same(layer, batch)
    layer.zero_grad()
    n = layer.nnz
    layer.shrink(torch.arange(n) % 2 == 0)  # a mask over the live values
    assert layer.nnz == (n + 1) // 2
    _check_same(layer, batch)


def test_hand_computed_shrink_and_grow():
    layer = SparseLinear.from_dense(torch.tensor([[1.0, 0.0, -3.0], [0.5, 2.0, 0.0]]), kernel="reference")
    layer.shrink(torch.tensor([True, False, True, True]))  # drop the -3
    assert layer.to_dense().tolist() == [[1.0, 0.0, 0.0], [0.5, 2.0, 0.0]]
    layer.grow([1, 0, 0], [2, 1, 0], torch.tensor([7.0, 5.0, 9.0]))  # (0, 0) is live: keeps 1.0
    assert layer.to_dense().tolist() == [[1.0, 5.0, 0.0], [0.5, 2.0, 7.0]]
    assert layer.crow.tolist() == [0, 2, 5] and layer.col.tolist() == [0, 1, 0, 1, 2]
    assert layer.tcrow.tolist() == [0, 2, 4, 5]
    assert layer(torch.tensor([[1.0, 1.0, 1.0]])).tolist() == [[6.0, 9.5]]
    layer.grow([0], [2])  # default: starts at 0
    assert layer.nnz == 6 and layer.to_dense()[0, 2] == 0


def test_grow_matches_dense_and_new_entries_get_gradients():
    layer, _ = _layer(seed=2)
    dead = (~layer.mask()).nonzero(as_tuple=True)
    layer.grow(dead[0][:4], dead[1][:4])
    _check_same(layer, 3)
    assert layer.nnz == int(layer.mask().sum()) and bool(layer.mask()[dead[0][:4], dead[1][:4]].all())


def test_all_pruned_layer_and_set_pattern():
    layer, _ = _layer()
    layer.shrink(torch.zeros(layer.nnz, dtype=torch.bool))
    assert layer.nnz == 0
    x = torch.randn(2, layer.in_features)
    torch.testing.assert_close(layer(x), layer.bias.expand(2, -1))
    target = torch.zeros(layer.out_features, layer.in_features, dtype=torch.bool)
    target[0, 1] = target[4, 6] = True
    layer.set_pattern(target)
    assert torch.equal(layer.mask(), target) and layer.nnz == 2
    _check_same(layer, 1)


def _step_pair(make_opt):
    """One step on a SparseLinear after shrink (with optimizer state remapped) vs the masked dense."""
    torch.manual_seed(0)
    layer, _ = _layer(seed=4)
    lin = _dense(layer)
    mask0 = layer.mask()
    opt_s, opt_d = make_opt([layer.values, layer.bias]), make_opt(list(lin.parameters()))
    x = torch.randn(6, layer.in_features)
    for _ in range(2):  # build up momentum / moments on both
        for m, o in ((layer, opt_s), (lin, opt_d)):
            o.zero_grad()
            m(x).square().sum().backward()
            if m is lin:
                lin.weight.grad *= mask0
            o.step()
    keep = torch.rand(mask0.shape, generator=torch.Generator().manual_seed(5)) < 0.6
    layer.shrink(keep, optimizer=opt_s)
    with torch.no_grad():  # the dense reference: prune and zero the pruned entries' state
        lin.weight *= mask0 & keep
        for t in opt_d.state[lin.weight].values():
            if torch.is_tensor(t) and t.shape == lin.weight.shape:
                t *= mask0 & keep
    for m, o in ((layer, opt_s), (lin, opt_d)):
        o.zero_grad()
        m(x).square().sum().backward()
        if m is lin:
            lin.weight.grad *= mask0 & keep
        o.step()
    torch.testing.assert_close(layer.to_dense(), lin.weight.detach() * (mask0 & keep))
    torch.testing.assert_close(layer.bias, lin.bias)
    return layer, opt_s


def test_one_sgd_momentum_step_after_shrink_equals_the_masked_dense_step():
    layer, opt = _step_pair(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3))
    assert opt.state[layer.values]["momentum_buffer"].shape == (layer.nnz,)


def test_one_adam_step_after_shrink_equals_the_masked_dense_step():
    layer, opt = _step_pair(lambda ps: torch.optim.Adam(ps, lr=0.01))
    assert opt.state[layer.values]["exp_avg_sq"].shape == (layer.nnz,)


def test_grow_starts_optimizer_state_at_zero_for_new_entries():
    layer, _ = _layer(seed=6)
    opt = torch.optim.Adam([layer.values], lr=0.1)
    layer(torch.randn(3, layer.in_features)).sum().backward()
    opt.step()
    old = {k: v.clone() for k, v in opt.state[layer.values].items()}
    old_mask = layer.mask()
    r, c = (~old_mask).nonzero(as_tuple=True)
    layer.grow(r[:3], c[:3], optimizer=opt)
    st = opt.state[layer.values]
    was_live = old_mask[layer.row, layer.col.long()]
    assert torch.equal(st["exp_avg"][was_live], old["exp_avg"]) and bool((st["exp_avg"][~was_live] == 0).all())
    assert torch.equal(st["step"], old["step"])


def test_bad_pattern_updates_raise():
    layer, _ = _layer()
    with pytest.raises(SparsenetError, match="shape"):
        layer.shrink(torch.ones(3, dtype=torch.bool))
    with pytest.raises(SparsenetError, match="out of range"):
        layer.grow([0], [99])
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_pattern_updates_inside_a_plain_training_loop(opt_name):
    """The loop keeps last step's `loss` (and its graph) alive while the next forward runs: the
    pattern update must not leave autograd with the old number of values."""
    torch.manual_seed(0)
    layer = SparseLinear.random(8, 6, 0.5)
    opt = (torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9) if opt_name == "sgd"
           else torch.optim.Adam(layer.parameters(), lr=0.01))
    x = torch.randn(4, 8)
    sizes = []
    for step in range(6):
        loss = layer(x).square().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 2 == 0:
            layer.shrink(torch.rand(layer.nnz) < 0.7, optimizer=opt)
        else:
            layer.grow(torch.randint(0, 6, (5,)), torch.randint(0, 8, (5,)), optimizer=opt)
        sizes.append(layer.nnz)
    assert len(set(sizes)) > 2  # the pattern really changed size, both ways
    loss = layer(x).square().sum()
    loss.backward()
    assert layer.values.grad.shape == (layer.nnz,)


def test_sparse_state_round_trip_keeps_the_rewired_pattern_and_optimizer():
    from sparsenet.nn.pattern_state import load_sparse_state_, sparse_state
    from sparsenet.nn import sparse_mlp

    torch.manual_seed(0)
    model = sparse_mlp([8, 6, 3], 0.5, generator=torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x = torch.randn(4, 8)
    model(x).sum().backward()
    opt.step()
    model.layers[0].shrink(torch.rand(model.layers[0].nnz) < 0.5, optimizer=opt)
    model.layers[0].grow([0, 1, 2], [7, 7, 7], optimizer=opt)
    saved, saved_opt = sparse_state(model), copy.deepcopy(opt.state_dict())
    fresh = sparse_mlp([8, 6, 3], 0.5, generator=torch.Generator().manual_seed(1))  # another pattern
    opt2 = torch.optim.Adam(fresh.parameters(), lr=0.01)
    load_sparse_state_(fresh, saved)
    opt2.load_state_dict(saved_opt)
    for a, b in zip(model.layers, fresh.layers):
        assert torch.equal(a.mask(), b.mask())
        assert torch.equal(a.values, b.values) and torch.equal(a.bias, b.bias)
    torch.testing.assert_close(model(x), fresh(x))
    opt.zero_grad()
    for m in (model, fresh):
        m(x).square().sum().backward()
    opt.step()
    opt2.step()
    torch.testing.assert_close(model.layers[0].values, fresh.layers[0].values)


def test_rewire_equals_shrink_then_grow_in_one_rebuild():
    from sparsenet.nn.pattern_update import rewire_

    def setup():
        torch.manual_seed(3)
        layer = SparseLinear.random(9, 7, 0.4, generator=torch.Generator().manual_seed(3))
        opt = torch.optim.Adam(layer.parameters(), lr=0.01)
        layer(torch.randn(4, 9)).square().sum().backward()
        opt.step()
        return layer, opt

    a, oa = setup()
    b, ob = setup()
    drop = torch.zeros(a.nnz, dtype=torch.bool)
    drop[::2] = True
    dropped = (a.row * 9 + a.col.long())[drop]
    rows = torch.cat([dropped[:2] // 9, torch.tensor([0, 6])])  # two dropped positions grow back
    cols = torch.cat([dropped[:2] % 9, torch.tensor([8, 0])])
    keep_free = ~a.mask()[rows, cols] | torch.tensor([True, True, False, False])
    rows, cols = rows[keep_free], cols[keep_free]
    vals = torch.arange(1.0, rows.numel() + 1)
    a.shrink(~drop, optimizer=oa)
    a.grow(rows, cols, vals, optimizer=oa)
    rewire_(b, drop, rows, cols, vals, optimizer=ob)
    assert torch.equal(a.mask(), b.mask())
    assert torch.equal(a.values, b.values)
    for k in ("exp_avg", "exp_avg_sq"):
        assert torch.equal(oa.state[a.values][k], ob.state[b.values][k])
    with pytest.raises(SparsenetError, match="drop mask"):
        rewire_(b, torch.zeros(3, dtype=torch.bool), [], [])
