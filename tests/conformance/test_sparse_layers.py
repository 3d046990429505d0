"""Conformance: every registered criterion, `prune`, `apply_masks`, `rewind` and the lottery
controls work on a model whose layers are SparseLinear, and agree with a dense twin whose pruned
weights are exactly the SparseLinear's dead ones (same masks, same scores, same weights)."""
import pytest
import torch

from sparsenet.criteria.base import CRITERIA
from sparsenet.lottery.controls import CONTROLS, control_start
from sparsenet.lottery.imp import rewind
from sparsenet.masks import apply_masks, prunable_names, starting_masks
from sparsenet.models import MLP
from sparsenet.nn import SparseLinear, export_dense, sparse_mlp
from sparsenet.prune.api import prune

SIZES = [6, 10, 8, 3]


def _twins(seed=0):
    sparse = sparse_mlp(SIZES, 0.5, generator=torch.Generator().manual_seed(seed))
    return sparse, export_dense(sparse)


def _batch():
    g = torch.Generator().manual_seed(1)
    return torch.randn(32, SIZES[0], generator=g), torch.randint(0, SIZES[-1], (32,), generator=g)


def _assert_twins(sparse, dense, masks):
    for i, layer in enumerate(sparse.layers):
        assert isinstance(layer, SparseLinear)
        key = f"layers.{i}.weight"
        if masks is not None:
            assert torch.equal(layer.mask(), masks[key]), key
        torch.testing.assert_close(layer.to_dense(), dense.layers[i].weight.detach(), msg=key)
        torch.testing.assert_close(layer.bias, dense.layers[i].bias)
    x = _batch()[0]
    torch.testing.assert_close(sparse(x), dense(x))


def test_sparse_layers_are_masked_by_their_dense_weight_names():
    sparse, _ = _twins()
    assert prunable_names(sparse) == [f"layers.{i}.weight" for i in range(3)]
    start = starting_masks(sparse)
    assert all(torch.equal(start[f"layers.{i}.weight"], sparse.layers[i].mask()) for i in range(3))


@pytest.mark.parametrize("scope", ["layerwise", "global"])
@pytest.mark.parametrize("name", CRITERIA.names())
def test_every_criterion_prunes_sparse_layers_like_the_dense_twin(name, scope):
    crit = CRITERIA.get(name)
    sparse, dense = _twins()
    start = starting_masks(sparse)
    batch = _batch() if crit.needs else None
    nnz = [layer.nnz for layer in sparse.layers]
    torch.manual_seed(7)  # stochastic criteria (random, Hessian probes) draw the same numbers
    got = prune(sparse, name, 0.8, scope=scope, batch=batch, force=True)
    torch.manual_seed(7)
    want = prune(dense, name, 0.8, scope=scope, batch=batch, masks=start, force=True)
    assert set(got) == set(want)
    for k in want:
        assert torch.equal(got[k], want[k]), (name, k)
        assert not bool((got[k] & ~start[k]).any())  # nothing dead came back
    assert [layer.nnz for layer in sparse.layers] == [int(want[k].sum()) for k in want]
    assert sum(layer.nnz for layer in sparse.layers) < sum(nnz)
    _assert_twins(sparse, dense, want)


@pytest.mark.parametrize("name", CRITERIA.names())
def test_every_criterion_prunes_whole_neurons_of_sparse_layers_like_the_dense_twin(name):
    crit = CRITERIA.get(name)
    sparse, dense = _twins()
    start = starting_masks(sparse)
    batch = _batch() if crit.needs else None
    torch.manual_seed(7)
    got = prune(sparse, name, 0.5, structure="neuron", batch=batch, force=True)
    torch.manual_seed(7)
    want = prune(dense, name, 0.5, structure="neuron", batch=batch, masks=start, force=True)
    for k in want:
        assert torch.equal(got[k], want[k]), (name, k)
    dead_rows = ~got["layers.0.weight"].any(1)
    assert int(dead_rows.sum()) >= 4  # half of the 10 hidden units (some may have been dead already)
    assert not bool(got["layers.1.weight"][:, dead_rows].any())  # their outgoing weights went too
    _assert_twins(sparse, dense, want)


@pytest.mark.parametrize("name", CRITERIA.names())
def test_criteria_score_dead_entries_of_a_sparse_layer_as_dead_and_stay_pure(name):
    crit = CRITERIA.get(name)
    sparse, _ = _twins()
    before = {k: v.clone() for k, v in sparse.state_dict().items()}
    torch.manual_seed(0)
    scores = crit(sparse, batch=_batch() if crit.needs else None)
    for i, layer in enumerate(sparse.layers):
        s = scores[f"layers.{i}.weight"]
        if crit.granularity == "weight":
            assert s.shape == (layer.out_features, layer.in_features)
            assert bool((s[~layer.mask()] == float("-inf")).all()) and bool(torch.isfinite(s[layer.mask()]).all())
        else:
            assert s.shape == (layer.out_features,)
    after = sparse.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_apply_masks_shrinks_the_pattern_and_keeps_the_optimizer_in_step():
    sparse, dense = _twins()
    opt = torch.optim.SGD(sparse.parameters(), lr=0.1, momentum=0.9)
    sparse(_batch()[0]).sum().backward()
    opt.step()
    g = torch.Generator().manual_seed(3)
    masks = {k: m & (torch.rand(m.shape, generator=g) < 0.5) for k, m in starting_masks(sparse).items()}
    dense.load_state_dict(sparse.state_dict())
    apply_masks(sparse, masks, optimizer=opt)
    apply_masks(dense, masks)
    _assert_twins(sparse, dense, masks)
    for layer in sparse.layers:
        assert opt.state[layer.values]["momentum_buffer"].shape == (layer.nnz,)


def test_rewind_gathers_a_dense_theta0_at_the_pattern():
    sparse, _ = _twins()
    torch.manual_seed(5)
    theta0 = MLP(SIZES).state_dict()  # dense: nonzero everywhere, also off the pattern
    masks = prune(sparse, "magnitude", 0.7)
    rewind(sparse, theta0, masks)
    for i, layer in enumerate(sparse.layers):
        k = f"layers.{i}.weight"
        assert torch.equal(layer.mask(), masks[k])
        assert torch.equal(layer.to_dense(), theta0[k] * masks[k])
    rewind(sparse, theta0, {})  # no masks: the pattern stays, theta0 is gathered on it
    assert torch.equal(sparse.layers[0].mask(), masks["layers.0.weight"])


@pytest.mark.parametrize("kind", CONTROLS)
def test_lottery_controls_start_sparse_layers_like_the_dense_twin(kind):
    sparse, dense = _twins()
    torch.manual_seed(5)
    theta0 = MLP(SIZES).state_dict()
    masks = prune(sparse, "magnitude", 0.7)
    state, ctrl_masks = control_start(kind, theta0, dict(masks), seed=11, build=lambda: MLP(SIZES))
    rewind(sparse, state, ctrl_masks)
    rewind(dense, state, ctrl_masks)
    _assert_twins(sparse, dense, ctrl_masks)
    live = [int(m.sum()) for m in masks.values()]
    assert [layer.nnz for layer in sparse.layers] == live  # same survivors per layer
