"""The functional API: bad input fails in one line before any work; state_dicts stay loadable;
structures; scheduled pruning inside the training loop."""
import pytest
import torch
from torch import nn

from sparsenet.errors import ConfigError
from sparsenet.masks import count_live
from sparsenet.models import MLP, build_model
from sparsenet.prune import ScheduledPruning, prune
from sparsenet.schedules import gradual
from sparsenet.train import TorchEngine


def net():
    torch.manual_seed(0)
    return MLP([10, 8, 6, 3], activation="relu")


def batch(n=32, d=10, k=3):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, d, generator=g), torch.randint(0, k, (n,), generator=g)


@pytest.mark.parametrize("kwargs, message", [
    (dict(criterion="nope"), "unknown criterion 'nope'; valid criteria: "),
    (dict(allocation="erdos"), "unknown allocation 'erdos'; valid allocations: "),
    (dict(structure="block"), "unknown structure 'block'; valid structures: unstructured, neuron, channel"),
    (dict(scope="local"), "unknown scope 'local'; valid scopes: layerwise, global"),
    (dict(amount=1.0), r"amount=1.0 must be a sparsity in \[0, 1\)"),
    (dict(amount=-0.1), r"amount=-0.1 must be a sparsity in \[0, 1\)"),
    (dict(amount=999), "amount=999 weights to remove, but only 146 of 146 are live"),
    (dict(criterion="snip"), "criterion 'snip' needs data: pass batch=\\(x, y\\)"),
    (dict(allocation="budgets", budgets={"fc1.weight": 0.5}), "budget names unknown layer 'fc1.weight'"),
    (dict(structure="channel"), "structure 'channel' needs a Conv2d layer"),
])
def test_bad_input_is_one_line_and_nothing_changes(kwargs, message):
    m = net()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    args = dict(criterion="magnitude", amount=0.5) | kwargs
    with pytest.raises(ConfigError, match=message) as err:
        prune(m, **args)
    assert "\n" not in str(err.value)
    assert all(torch.equal(v, before[k]) for k, v in m.state_dict().items())


def test_amount_cannot_revive_and_int_amounts_count_weights():
    m = net()
    masks = prune(m, "magnitude", 0.8)
    with pytest.raises(ConfigError, match="only .* are live \\(pruning never revives\\)"):
        prune(m, "magnitude", 0.5, masks=masks, scope="global")
    live = count_live(masks)
    again = prune(m, "magnitude", 10, masks=masks, scope="global")
    assert count_live(again) == live - 10


def test_structured_pruning_on_an_unsupported_layer_type():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = nn.Conv1d(4, 2, 1)

        def forward(self, x):
            return self.b(self.a(x).unsqueeze(2)).squeeze(2)

    with pytest.raises(ConfigError, match="structure 'neuron' supports Linear, SparseLinear and nn.Conv2d layers; 'b.weight' is a Conv1d"):
        prune(Odd(), "magnitude", 0.5, structure="neuron")
    masks = prune(Odd(), "magnitude", 0.5)  # unstructured works on any module with weights
    assert count_live(masks) == 8 + 4


def test_pruned_state_dict_loads_into_an_unpruned_model():
    m = net()
    prune(m, "taylor", 0.7, scope="global", batch=batch())
    fresh = MLP([10, 8, 6, 3], activation="relu")
    fresh.load_state_dict(m.state_dict())
    x, _ = batch()
    assert torch.equal(fresh(x), m(x))
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in fresh.named_parameters()]


def test_neuron_pruning_clears_rows_and_next_columns():
    m = net()
    masks = prune(m, "magnitude", 0.5, structure="neuron")
    rows = masks["layers.0.weight"].any(1)
    assert int(rows.sum()) == 4
    assert torch.equal(masks["layers.1.weight"].any(0), rows)
    assert int(masks["layers.1.weight"].any(1).sum()) == 3
    assert bool(masks["layers.2.weight"].all(0)[masks["layers.1.weight"].any(1)].all())


def test_channel_pruning_on_the_convnet():
    torch.manual_seed(0)
    c = build_model("convnet", spec="4-6:8")
    masks = prune(c, "magnitude", 0.5, structure="channel")
    assert int(masks["convs.0.weight"].flatten(1).any(1).sum()) == 2
    assert int(masks["convs.1.weight"].flatten(1).any(1).sum()) == 3
    fc_in = masks["fcs.0.weight"].any(0).reshape(6, 49)
    assert fc_in.all(1).sum() == 3 and (~fc_in.any(1)).sum() == 3  # whole channels cut


def test_spectral_allocation_chooses_units_per_layer():
    m = net()
    x, y = batch(200)
    masks = prune(m, "redundancy", None, structure="neuron", allocation="spectral", batch=(x, y))
    kept = [int(masks[f"layers.{i}.weight"].any(1).sum()) for i in (0, 1)]
    assert all(1 <= k for k in kept) and kept[0] <= 8 and kept[1] <= 6


def test_scheduled_gradual_pruning_in_the_training_loop_reaches_the_target_exactly():
    m = net()
    x, y = batch(64)
    hook = ScheduledPruning(gradual(0.9, start=0, end=7, every=3), criterion="magnitude", scope="global")
    engine = TorchEngine(m, torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9), hooks=[hook])
    hook.on_start(engine.context)  # what train_phase does before the first step
    engine.train(x, y, torch.arange(64).repeat(2), 16)  # 8 steps, steps per epoch 4
    assert [h["step"] for h in hook.history] == [0, 3, 6, 7]
    assert hook.history[-1]["live"] == round(0.1 * 146)
    lives = [h["live"] for h in hook.history]
    assert lives == sorted(lives, reverse=True)
    params = dict(m.named_parameters())
    assert sum(int((params[k] != 0).sum()) for k in hook.masks) <= round(0.1 * 146)


def test_scheduled_pruning_fires_its_step_0_level_as_a_plain_engine_hook():
    from sparsenet.schedules import one_shot

    m = net()
    x, y = batch(16)
    hook = ScheduledPruning(one_shot(0.5), criterion="magnitude", scope="global")  # no on_start call
    before = {k: v.detach().clone() for k, v in m.named_parameters()}
    engine = TorchEngine(m, torch.optim.SGD(m.parameters(), lr=0.05), hooks=[hook])
    engine.train(x, y, torch.arange(16), 8)  # 2 steps
    assert [h["step"] for h in hook.history] == [0]
    assert hook.history[0]["live"] == 146 - round(0.5 * 146)
    params = dict(m.named_parameters())
    for k, mask in hook.masks.items():
        assert torch.equal(params[k][~mask], torch.zeros(int((~mask).sum())))  # pruned: exactly zero
    # one global ranking of the initial |w| (pruned before any update): every kept weight beats every pruned one
    kept = torch.cat([before[k].abs()[m_] for k, m_ in hook.masks.items()])
    dropped = torch.cat([before[k].abs()[~m_] for k, m_ in hook.masks.items()])
    assert kept.min() >= dropped.max()


def test_variance_folding_changes_outputs_less_than_plain_pruning():
    x, y = batch(256)
    x = x + torch.linspace(-2, 2, 10)  # inputs with nonzero means: folding has something to fold
    outs = {}
    for update in (True, False):
        m = net()
        ref = m(x).detach()
        prune(m, "variance", 0.6, batch=(x, y), update=update)
        outs[update] = float(((m(x).detach() - ref) ** 2).mean())
    assert outs[True] < 0.8 * outs[False]


def test_obs_compensation_changes_outputs_less_than_plain_pruning():
    x, y = batch(256)
    errs = {}
    for update in (True, False):
        m = net()
        ref = m(x).detach()
        prune(m, "obs", 0.6, batch=(x, y), update=update)
        errs[update] = float(((m(x).detach() - ref) ** 2).mean())
    assert errs[True] < errs[False]
