"""The one criterion registry: Zhou et al.'s ticket criteria next to the model criteria, each
family reached by name, a name from the wrong family failing in one line that says where it belongs."""
import pytest
import torch

from sparsenet.criteria import CRITERIA, get_criterion, score, ticket_scores
from sparsenet.errors import ConfigError
from sparsenet.models import MLP
from sparsenet.prune import prune


def net_with(w):
    net = MLP([2, 2], activation="relu")
    with torch.no_grad():
        net.layers[0].weight.copy_(w)
    return net


WI = torch.tensor([[1.0, -1.0], [2.0, -2.0]])
WF = torch.tensor([[3.0, 3.0], [-1.0, -4.0]])


def test_families_partition_the_registry_with_random_in_both():
    model, ticket, every = CRITERIA.names(), CRITERIA.names("ticket"), CRITERIA.names("all")
    assert {"magnitude", "movement", "snip"} <= set(model)
    assert set(ticket) == {"large_final", "small_final", "large_init", "large_final_same_sign",
                           "magnitude_increase", "large_movement", "random"}
    assert set(model) & set(ticket) == {"random"}
    assert set(every) == set(model) | set(ticket)
    with pytest.raises(ConfigError, match="unknown criterion family 'tickets'; valid families: all, model, ticket"):
        CRITERIA.names("tickets")


def test_ticket_criterion_on_a_model_reads_final_weights_from_it_and_init_from_init():
    net = net_with(WF)
    got = score(net, "large_final_same_sign", init={"layers.0.weight": WI})["layers.0.weight"]
    torch.testing.assert_close(got, torch.tensor([[3.0, 0.0], [0.0, 4.0]]))
    assert torch.equal(net.layers[0].weight.detach(), WF)  # pure
    by_dicts = ticket_scores("large_final_same_sign", {"w": WI}, {"w": WF}, ["w"])["w"]
    torch.testing.assert_close(by_dicts, got)


def test_ticket_criterion_without_init_says_what_it_needs():
    with pytest.raises(ConfigError, match="^criterion 'large_init' needs the ticket's initial weights: init="):
        score(net_with(WF), "large_init")


def test_random_draws_the_same_scores_in_both_families():
    net = net_with(WF)
    a = score(net, "random", seed=3)["layers.0.weight"]
    b = ticket_scores("random", {"layers.0.weight": WI}, {"layers.0.weight": WF}, ["layers.0.weight"], seed=3)
    assert torch.equal(a, b["layers.0.weight"])


def test_prune_refuses_a_ticket_criterion_in_one_line_naming_its_family():
    with pytest.raises(ConfigError) as e:
        prune(net_with(WF), "large_init", 0.5)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("criterion 'large_init' is a ticket criterion (scores a lottery ticket")
    assert "valid model criteria: " in msg and "magnitude" in msg


def test_the_lottery_family_refuses_a_model_criterion():
    with pytest.raises(ConfigError, match="criterion 'snip' is a model criterion .*valid ticket criteria: large_final"):
        get_criterion("snip", family="ticket")
