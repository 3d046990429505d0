"""The same contract for every registered criterion: deterministic under a seed, pure (never
mutates the model), exact target counts, monotone (never revives), masked weights stay zero
through optimizer steps, masks survive a save/load round-trip."""
import pytest
import torch

from sparsenet.criteria import CRITERIA, score
from sparsenet.masks import count_live, load_masks, save_masks
from sparsenet.models import MLP
from sparsenet.prune import MaskHook, prune
from sparsenet.train import TorchEngine

ALL = CRITERIA.names()


def setup():
    torch.manual_seed(3)
    net = MLP([8, 7, 6, 3], activation="relu")
    g = torch.Generator().manual_seed(4)
    x = torch.randn(40, 8, generator=g)
    y = torch.randint(0, 3, (40,), generator=g)
    return net, (x, y)


def test_registry_has_the_brief_criteria():
    want = {"magnitude", "random", "taylor", "taylor-neuron", "snip", "fisher", "obd", "obs", "movement",
            "variance", "hebbian", "gating", "gating-weight", "redundancy", "grasp"}
    assert want <= set(ALL)
    for name in ALL:
        assert CRITERIA.get(name).paper  # every criterion names its source


@pytest.mark.parametrize("name", ALL)
def test_deterministic_and_pure(name):
    net, batch = setup()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    a = score(net, name, batch=batch)
    b = score(net, name, batch=batch)
    assert a.keys() == b.keys() == {"layers.0.weight", "layers.1.weight", "layers.2.weight"}
    for k in a:
        assert torch.equal(a[k], b[k]), k
        assert torch.isfinite(a[k]).all()
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), f"{name} changed {k}"
    assert all(p.grad is None for p in net.parameters())


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("scope", ["layerwise", "global"])
def test_exact_count_and_monotone(name, scope):
    net, batch = setup()
    total = sum(p.numel() for n, p in net.named_parameters() if n.endswith("weight"))
    m1 = prune(net, name, 0.5, scope=scope, batch=batch, force=True)
    if scope == "global":
        assert count_live(m1) == round(0.5 * total)
    else:
        assert all(int(m.sum()) == round(0.5 * m.numel()) for m in m1.values())
    m2 = prune(net, name, 0.8, scope=scope, batch=batch, masks=m1, force=True)
    for k in m1:
        assert not bool((m2[k] & ~m1[k]).any()), f"{name} revived weights in {k}"
        assert bool((dict(net.named_parameters())[k][~m2[k]] == 0).all())
    if scope == "global":
        assert count_live(m2) == round(0.2 * total)


@pytest.mark.parametrize("name", ALL)
def test_masked_weights_stay_zero_and_masks_round_trip(name, tmp_path):
    net, (x, y) = setup()
    masks = prune(net, name, 0.7, batch=(x, y), force=True)
    opt = torch.optim.Adam(net.parameters(), lr=0.05, weight_decay=0.01)
    engine = TorchEngine(net, opt, hooks=[MaskHook(masks)])
    engine.train(x, y, torch.arange(40), 8)
    params = dict(net.named_parameters())
    for k, m in masks.items():
        assert bool((params[k][~m] == 0).all()), k
        assert bool((params[k][m] != 0).any())
    save_masks(tmp_path / "m.safetensors", masks)
    back = load_masks(tmp_path / "m.safetensors", net)
    assert back.keys() == masks.keys() and all(torch.equal(back[k], masks[k]) for k in masks)
    fresh = MLP([8, 7, 6, 3], activation="relu")
    fresh.load_state_dict(net.state_dict())  # pruning never renames parameters
