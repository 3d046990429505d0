"""DSTHook: exact sizes, optimizer state carried, RigL's choice = a dense-gradient reference,
masked and CSR execution make the same choices, grow-prune follows its trajectory."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sparsenet.dst import DSTHook, Trajectory, choose_drop, drop_fraction
from sparsenet.errors import ConfigError
from sparsenet.masks import enforce_masks
from sparsenet.masks.layers import layer_views
from sparsenet.models import MLP
from sparsenet.nn import sparse_mlp
from sparsenet.train.engines import TorchEngine
from sparsenet.train.hooks import StepContext

SIZES = [12, 20, 16, 4]


def _data(n=64, seed=3):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, SIZES[0], generator=g), torch.randint(0, SIZES[-1], (n,), generator=g)


def _sparse(seed=0, density=0.3):
    torch.manual_seed(seed)
    return sparse_mlp(SIZES, density, generator=torch.Generator().manual_seed(seed))


def _masked_twin(sparse):
    """The same weights and pattern as dense nn.Linear layers under enforced masks."""
    dense = MLP(SIZES, activation="relu")
    masks = {}
    with torch.no_grad():
        for i, l in enumerate(sparse.layers):
            dense.layers[i].weight.copy_(l.to_dense())
            dense.layers[i].bias.copy_(l.bias)
            masks[f"layers.{i}.weight"] = l.mask()
    return dense, masks


def _train(model, hook_kw, steps=12, opt="momentum", masks=None, batch=16):
    X, Y = _data()
    o = (torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9) if opt == "momentum"
         else torch.optim.Adam(model.parameters(), lr=0.01))
    handle = enforce_masks(model, masks, optimizer=o) if masks is not None else None
    hook = DSTHook(model, steps=steps, layers=[f"layers.{i}.weight" for i in range(3)], **hook_kw)
    engine = TorchEngine(model, o, hooks=[hook])
    c = StepContext(model, o)
    hook.on_start(c)
    order = torch.arange(steps * batch) % X.shape[0]
    engine.train(X, Y, order, batch, context=c)
    hook.handle = handle  # masked: the enforced masks stay on (the caller compares them)
    return hook, o


@pytest.mark.parametrize("method", ["set", "rigl", "snfs"])
def test_updates_keep_every_layer_size_exact(method):
    model = _sparse()
    nnz0 = [l.nnz for l in model.layers]
    hook, _ = _train(model, dict(method=method, zeta=0.3, delta_t=3, end_step=12, seed=1, window=2))
    assert [r["step"] for r in hook.history] == [3, 6, 9]
    if method != "snfs":  # snfs moves regrowth between layers; the total is kept
        assert [l.nnz for l in model.layers] == nnz0
    assert sum(l.nnz for l in model.layers) == sum(nnz0)
    first = hook.history[0]["layers"]["layers.0.weight"]
    if method != "set":  # magnitude drop at RigL's cosine-decayed fraction
        assert first["dropped"] == round(drop_fraction(3, zeta=0.3, end_step=12, decay="cosine") * nnz0[0])
    assert all(r["layers"][n]["grown"] > 0 for r in hook.history[:1] for n in r["layers"])


def test_pattern_update_carries_survivor_state_and_zeroes_new_entries():
    model = _sparse()
    X, Y = _data()
    o = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(3):
        o.zero_grad()
        F.cross_entropy(model(X[:16]), Y[:16]).backward()
        o.step()
    layer = model.layers[0]
    keys0 = (layer.row * layer.in_features + layer.col.long()).tolist()
    before = dict(zip(keys0, o.state[layer.values]["momentum_buffer"].tolist()))
    dropped = {k for k, d in zip(keys0, choose_drop(layer.values.detach(), 0.4, "set").tolist()) if d}
    hook = DSTHook(model, "set", zeta=0.4, delta_t=1, end_step=10, steps=10, seed=0, init="zero")
    hook.update(o, 5)
    keys = (layer.row * layer.in_features + layer.col.long()).tolist()
    mom = o.state[layer.values]["momentum_buffer"].tolist()
    rec = hook.history[0]["layers"]["layers.0.weight"]
    survivors = set(keys0) - dropped
    new = [k for k in keys if k not in survivors]
    assert rec["dropped"] == len(dropped) > 0 and len(new) == rec["grown"] == len(dropped)
    assert survivors <= set(keys)
    vals = dict(zip(keys, layer.values.tolist()))
    for k, m in zip(keys, mom):
        assert m == (before[k] if k in survivors else 0.0)
    assert all(vals[k] == 0.0 for k in new)  # init="zero"
    rec2 = DSTHook(model, "set", zeta=0.4, delta_t=1, end_step=10, steps=10, seed=0).update(o, 6)  # SET's own
    keys2 = (layer.row * layer.in_features + layer.col.long()).tolist()
    vals2 = dict(zip(keys2, layer.values.tolist()))
    born = [k for k in keys2 if k not in set(keys)]
    kept = layer.nnz - rec2["layers"]["layers.0.weight"]["grown"]
    bound = 1 / (kept / layer.out_features) ** 0.5  # uniform in ±1/sqrt(fan-in of the survivors)
    assert born and all(v != 0.0 and abs(v) <= bound for k, v in vals2.items() if k in born)


def test_rigl_grows_exactly_where_the_dense_gradient_is_largest():
    model = _sparse(seed=2)
    X, Y = _data()
    lin = [l.to_linear() for l in model.layers]  # dense reference: the same function, dense weights
    hook = DSTHook(model, "rigl", zeta=0.25, delta_t=1, end_step=10, steps=10, seed=0, decay="constant",
                   layers=["layers.1.weight"])
    hook._armed = True
    F.cross_entropy(model(X[:16]), Y[:16]).backward()
    h = X[:16]
    for i, l in enumerate(lin):
        h = l(h) if i == len(lin) - 1 else torch.relu(l(h))
    F.cross_entropy(h, Y[:16]).backward()
    layer = model.layers[1]
    g = lin[1].weight.grad.abs().reshape(-1)
    live = layer.row * layer.in_features + layer.col.long()
    n_drop = round(0.25 * layer.nnz)
    after = layer.mask().reshape(-1)
    after[live[torch.sort(layer.values.detach().abs(), stable=True).indices[:n_drop]]] = False
    score = g.masked_fill(after, -1)
    want = after.clone()
    want[torch.topk(score, n_drop).indices] = True
    nnz = layer.nnz
    hook.update(None, 1)
    assert torch.equal(layer.mask().reshape(-1), want)
    assert layer.nnz == nnz


@pytest.mark.parametrize("method", ["set", "rigl", "snfs"])
@pytest.mark.parametrize("opt", ["momentum", "adam"])
def test_masked_and_csr_execution_make_the_same_choices(method, opt):
    sparse = _sparse(seed=4)
    dense, masks = _masked_twin(sparse)
    kw = dict(method=method, zeta=0.3, delta_t=4, end_step=16, seed=9, window=2)
    hs, _ = _train(sparse, kw, steps=16, opt=opt)
    hd, _ = _train(dense, kw, steps=16, opt=opt, masks=masks)
    assert [r["layers"] for r in hs.history] == [r["layers"] for r in hd.history]
    for i, l in enumerate(sparse.layers):
        view = layer_views(dense)[f"layers.{i}.weight"]
        assert torch.equal(l.mask(), view.mask()), i
        torch.testing.assert_close(l.to_dense(), dense.layers[i].weight.detach(), rtol=1e-4, atol=1e-5)


def test_grow_prune_follows_its_trajectory():
    model = _sparse(density=0.1)
    final = {f"layers.{i}.weight": l.nnz * 2 for i, l in enumerate(model.layers)}  # final = 2x start
    traj = Trajectory(start=0.5, peak=1.5, grow_end=8, prune_end=16)
    hook, _ = _train(model, dict(method="grow-prune", zeta=0.2, delta_t=2, end_step=20, seed=0,
                                 trajectory=traj, final_nnz=final), steps=22)
    live = {r["step"]: sum(v["live"] for v in r["layers"].values()) for r in hook.history}
    total_final = sum(final.values())
    assert live[6] > live[2]  # densifying
    assert max(live.values()) == live[8] or max(live.values()) == live[10]
    assert live[18] == pytest.approx(total_final, abs=len(final))  # at the final size after prune_end
    assert [l.nnz for l in model.layers] == [final[f"layers.{i}.weight"] for i in range(3)]


def test_bad_settings_are_one_line_errors():
    model = _sparse()
    for kw, msg in [(dict(zeta=0.0), "zeta"), (dict(zeta=1.0), "zeta"), (dict(delta_t=0), "delta_t"),
                    (dict(end_step=99), "end_step"), (dict(init="gauss"), "init"),
                    (dict(drop="largest"), "drop rule")]:
        args = dict(zeta=0.3, delta_t=2, end_step=10, steps=10) | kw
        with pytest.raises(ConfigError, match=msg):
            DSTHook(model, "set", **args)
    with pytest.raises(ConfigError, match="trajectory"):
        DSTHook(model, "grow-prune", zeta=0.3, delta_t=2, end_step=10, steps=10)


def test_rigl_on_a_masked_conv_layer_grows_where_its_dense_gradient_is_largest():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 3))
    g = torch.Generator().manual_seed(1)
    mask = torch.rand(net[0].weight.shape, generator=g) < 0.4
    handle = enforce_masks(net, {"0.weight": mask})
    x, y = torch.randn(8, 2, 5, 5, generator=g), torch.randint(0, 3, (8,), generator=g)
    ref = copy.deepcopy(net)
    hook = DSTHook(net, "rigl", zeta=0.3, delta_t=1, end_step=10, steps=10, decay="constant", layers=["0.weight"])
    hook._armed = True
    F.cross_entropy(net(x), y).backward()
    ref_w = ref[0].weight.detach().clone().requires_grad_(True)  # the dense gradient, no mask hook
    out = ref[3](torch.flatten(torch.relu(F.conv2d(x, ref_w, ref[0].bias, padding=1)), 1))
    F.cross_entropy(out, y).backward()
    live = mask.reshape(-1).nonzero().squeeze(1)
    vals = net[0].weight.detach().reshape(-1)[live]
    n = round(0.3 * live.numel())
    after = mask.reshape(-1).clone()
    after[live[torch.sort(vals.abs(), stable=True).indices[:n]]] = False
    want = after.clone()
    want[torch.topk(ref_w.grad.abs().reshape(-1).masked_fill(after, -1), n).indices] = True
    hook.update(None, 1)
    got = layer_views(net)["0.weight"].mask().reshape(-1)
    assert torch.equal(got, want)
    assert handle.active and int(got.sum()) == int(mask.sum())  # the enforced mask itself changed
