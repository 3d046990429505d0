"""Property tests: exact counts, subsets of the survivors, deterministic ties, global order."""
import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsenet.masks import halving_masks, select_global, select_layerwise, topk_mask
from sparsenet.models import MLP

# Few distinct values -> many ties.
_score = st.integers(min_value=-3, max_value=3).map(float)


@st.composite
def scored_layer(draw, max_size=24):
    n = draw(st.integers(min_value=0, max_value=max_size))
    scores = torch.tensor(draw(st.lists(_score, min_size=n, max_size=n)), dtype=torch.float32)
    alive = torch.tensor(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=torch.bool)
    return scores, alive


def _reference_topk(scores, alive, keep):
    """Sort the survivors by (-score, flat index) with plain Python."""
    order = sorted((i for i in range(len(scores)) if alive[i]), key=lambda i: (-float(scores[i]), i))
    out = torch.zeros(len(scores), dtype=torch.bool)
    out[order[:keep]] = True
    return out


@settings(max_examples=200, deadline=None)
@given(layer=scored_layer(), data=st.data())
def test_topk_exact_subset_and_deterministic_ties(layer, data):
    scores, alive = layer
    n_alive = int(alive.sum())
    keep = data.draw(st.integers(min_value=0, max_value=n_alive))
    out = topk_mask(scores, alive, keep)
    assert out.dtype == torch.bool and out.shape == alive.shape
    assert int(out.sum()) == keep
    assert not bool((out & ~alive).any())
    assert torch.equal(out, _reference_topk(scores, alive, keep))
    if keep and keep < n_alive:
        assert scores[out].min() >= scores[alive & ~out].max()


@settings(max_examples=100, deadline=None)
@given(layer=scored_layer(), data=st.data())
def test_topk_2d_matches_flat(layer, data):
    scores, alive = layer
    if scores.numel() % 2:
        scores, alive = scores[:-1], alive[:-1]
    keep = data.draw(st.integers(min_value=0, max_value=int(alive.sum())))
    out2d = topk_mask(scores.reshape(2, -1), alive.reshape(2, -1), keep)
    assert torch.equal(out2d.reshape(-1), topk_mask(scores, alive, keep))


@st.composite
def scored_layers(draw):
    k = draw(st.integers(min_value=1, max_value=4))
    layers = [draw(scored_layer(max_size=16)) for _ in range(k)]
    scores = {f"l{i}": s for i, (s, _) in enumerate(layers)}
    alive = {f"l{i}": a for i, (_, a) in enumerate(layers)}
    return scores, alive


@settings(max_examples=150, deadline=None)
@given(layers=scored_layers(), s=st.floats(min_value=0.0, max_value=0.999))
def test_layerwise_counts_relative_to_alive(layers, s):
    scores, alive = layers
    out = select_layerwise(scores, alive, sparsity=s, relative_to="alive")
    assert list(out) == list(alive)
    for n in alive:
        assert int(out[n].sum()) == round((1 - s) * int(alive[n].sum()))
        assert not bool((out[n] & ~alive[n]).any())
        assert torch.equal(out[n], topk_mask(scores[n], alive[n], int(out[n].sum())))


@settings(max_examples=150, deadline=None)
@given(layers=scored_layers(), s=st.floats(min_value=0.0, max_value=0.999))
def test_layerwise_counts_relative_to_layer(layers, s):
    scores, alive = layers
    full = {n: torch.ones_like(a) for n, a in alive.items()}
    out = select_layerwise(scores, full, sparsity=s)
    for n in alive:
        assert int(out[n].sum()) == round((1 - s) * alive[n].numel())


@settings(max_examples=200, deadline=None)
@given(layers=scored_layers(), data=st.data())
def test_global_exact_total_and_keeps_largest_overall(layers, data):
    scores, alive = layers
    n_alive = sum(int(a.sum()) for a in alive.values())
    keep = data.draw(st.integers(min_value=0, max_value=n_alive))
    out = select_global(scores, alive, keep=keep)
    assert sum(int(m.sum()) for m in out.values()) == keep
    for n in alive:
        assert not bool((out[n] & ~alive[n]).any())
    kept = torch.cat([scores[n][out[n]] for n in alive])
    dropped = torch.cat([scores[n][alive[n] & ~out[n]] for n in alive])
    if kept.numel() and dropped.numel():
        assert kept.min() >= dropped.max()
    # ties: the reference order is (-score, layer position, flat index)
    cands = [(-float(scores[n][i]), li, i) for li, n in enumerate(alive) for i in range(len(scores[n])) if alive[n][i]]
    chosen = sorted(cands)[:keep]
    expected = {n: torch.zeros_like(alive[n]) for n in alive}
    names = list(alive)
    for _, li, i in chosen:
        expected[names[li]][i] = True
    assert all(torch.equal(out[n], expected[n]) for n in alive)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**16), times=st.integers(0, 5), tie_values=st.booleans())
def test_halving_keeps_ceil_half_each_round(seed, times, tie_values):
    torch.manual_seed(seed)
    net = MLP([7, 5, 3])
    if tie_values:  # many equal magnitudes
        with torch.no_grad():
            for layer in net.layers:
                layer.weight.copy_(torch.randint(-2, 3, layer.weight.shape).float())
    masks, rounds = halving_masks(net, times=times)
    assert rounds == times
    for name, full in (("layers.0.weight", 35), ("layers.1.weight", 15)):
        n = full
        for _ in range(times):
            n = math.ceil(n / 2)
        assert int(masks[name].sum()) == n
        w = net.get_parameter(name).detach().abs()
        if 0 < n < full:
            assert w[masks[name]].min() >= w[~masks[name]].max()
    # one round at a time gives the same masks
    step, alive = None, None
    for _ in range(times):
        step, _ = halving_masks(net, alive=alive, times=1)
        alive = step
    if times:
        assert all(torch.equal(step[k], masks[k]) for k in masks)
