"""Every registered criterion: pure, finite, shaped like its parameter (or its units), and
higher = keep: `prune` keeps the top scores, and on a hand-made net a connection or unit that
does nothing (zero weight on an input that is always zero; a unit with no weights in or out) is
never the best of its layer. Ticket criteria (Zhou et al.) get the same contract on (init, final)."""
import pytest
import torch

from sparsenet.criteria import CRITERIA, expand_scores, score, ticket_scores
from sparsenet.models import MLP
from sparsenet.prune import prune

NAMES = ["layers.0.weight", "layers.1.weight"]
UNORDERED = {"random"}  # a baseline: its scores carry no order by design


def dead_net():
    """MLP 4-3-2 (tanh): input 3 is always 0 and its weights are 0; hidden unit 2 has no weights in
    or out (and bias 0). Everything else is generic and non-zero."""
    torch.manual_seed(0)
    net = MLP([4, 3, 2], activation="tanh")
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 4, generator=g)
    x[:, 3] = 0.0
    y = torch.randint(0, 2, (64,), generator=g)
    with torch.no_grad():
        net.layers[0].weight[:, 3] = 0.0
        net.layers[0].weight[2] = 0.0
        net.layers[0].bias[2] = 0.0
        net.layers[1].weight[:, 2] = 0.0
    dead_w = {"layers.0.weight": torch.zeros(3, 4, dtype=torch.bool), "layers.1.weight": torch.zeros(2, 3, dtype=torch.bool)}
    dead_w["layers.0.weight"][:, 3] = True
    dead_w["layers.0.weight"][2] = True
    dead_w["layers.1.weight"][:, 2] = True
    dead_units = {"layers.0.weight": torch.tensor([False, False, True])}
    return net, (x, y), dead_w, dead_units


def check_criterion(name: str) -> None:
    """The contract of a model-family criterion `name` (used for registered and new entries)."""
    crit = CRITERIA.get(name)
    net, batch, dead_w, dead_units = dead_net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(5)
    scores = score(net, name, batch=batch if crit.needs else None)
    # pure: parameters, buffers and .grad untouched
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items()), f"{name} changed the model"
    assert all(p.grad is None for p in net.parameters()), f"{name} left gradients"
    params = dict(net.named_parameters())
    assert set(scores) == set(NAMES)
    for k, s in scores.items():
        want = (params[k].shape[0],) if crit.granularity == "neuron" else params[k].shape
        assert s.shape == want, (name, k, s.shape)
        assert bool(torch.isfinite(s).all()), (name, k)
    if name in UNORDERED:
        return
    # higher = keep, by hand: what does nothing is never the best of its layer
    if crit.granularity == "weight":
        for k, dead in dead_w.items():
            assert scores[k][dead].max() < scores[k][~dead].max(), (name, k, scores[k])
    else:
        for k, dead in dead_units.items():
            assert scores[k][dead].max() < scores[k][~dead].max(), (name, k, scores[k])
    # higher = keep, through prune: every kept weight scores at least every pruned one
    torch.manual_seed(5)
    masks = prune(net, name, 0.5, batch=batch if crit.needs else None, force=True, apply=False, enforce=False)
    full = expand_scores(scores, net)
    for k, m in masks.items():
        assert full[k][m].min() >= full[k][~m].max(), (name, k)


def test_criterion_contract(criterion):
    check_criterion(criterion)


def check_ticket_criterion(name: str) -> None:
    """The contract of a ticket criterion: finite, weight-shaped, pure, and a weight that was
    zero at init and stayed zero is never the best one kept (except for random)."""
    g = torch.Generator().manual_seed(2)
    init = {"w": torch.randn(4, 5, generator=g)}
    final = {"w": init["w"] + 0.5 * torch.randn(4, 5, generator=g)}
    init["w"][0, 0] = final["w"][0, 0] = 0.0
    kept = {k: v.clone() for k, v in init.items()}, {k: v.clone() for k, v in final.items()}
    s = ticket_scores(name, init, final, ["w"], seed=3)["w"]
    assert s.shape == (4, 5) and bool(torch.isfinite(s).all())
    assert torch.equal(init["w"], kept[0]["w"]) and torch.equal(final["w"], kept[1]["w"])
    assert torch.equal(s, ticket_scores(name, init, final, ["w"], seed=3)["w"])
    if name not in UNORDERED and name != "small_final":  # small_final keeps the smallest on purpose
        assert s[0, 0] < s.max(), name


def test_ticket_criterion_contract(ticket_criterion):
    check_ticket_criterion(ticket_criterion)


def test_both_families_are_in_the_one_registry():
    assert set(CRITERIA.names()) | set(CRITERIA.names("ticket")) == set(CRITERIA.names("all"))
    with pytest.raises(Exception, match="ticket criterion"):
        prune(dead_net()[0], CRITERIA.names("ticket")[0] if CRITERIA.names("ticket")[0] != "random"
              else "large_final", 0.5)
