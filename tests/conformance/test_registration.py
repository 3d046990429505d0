"""A new entry is tested by registering it: the conformance parametrization reads the registries
at collection time, so a criterion or allocation registered before collection is run through the
same contract functions with no edit to the suite. Here one of each is registered in the test,
shown to appear in the names the suite parametrizes over, and put through its contract."""
import pytest
import torch

from sparsenet.allocation import ALLOCATIONS
from sparsenet.criteria import CRITERIA, register
from sparsenet.criteria.base import Scores, target_names

from .conftest import registry_names
from .test_allocations import check_allocation
from .test_criteria import check_criterion


@pytest.fixture
def registered():
    """Register entries for one test and remove them after it (registries have no unregister)."""
    added = []
    yield added
    for registry, name in added:
        registry._items.pop(name)


def test_a_registered_criterion_is_parametrized_and_passes_the_contract(registered):
    @register("abs-times-two", needs=None, paper="a test criterion: 2|w|")
    def abs_times_two(model, *, batch=None, loss_fn=None, names=None) -> Scores:
        params = dict(model.named_parameters())
        return {n: 2 * params[n].detach().abs() for n in target_names(model, names)}

    registered.append((CRITERIA, "abs-times-two"))
    assert "abs-times-two" in registry_names("criterion")
    check_criterion("abs-times-two")


def test_a_criterion_that_breaks_the_contract_fails_it(registered):
    @register("mutating", needs=None, paper="a test criterion that writes to the model")
    def mutating(model, *, batch=None, loss_fn=None, names=None) -> Scores:
        params = dict(model.named_parameters())
        with torch.no_grad():
            params["layers.0.weight"].mul_(2)  # impure: the contract must catch this
        return {n: params[n].detach().abs() for n in target_names(model, names)}

    registered.append((CRITERIA, "mutating"))
    with pytest.raises(AssertionError, match="mutating changed the model"):
        check_criterion("mutating")


def test_a_registered_allocation_is_parametrized_and_passes_the_contract(registered):
    # a split in proportion to each layer's live weights squared (favours big layers)
    ALLOCATIONS.register("live-squared", lambda alive: {n: float(m.sum()) ** 2 for n, m in alive.items()})
    registered.append((ALLOCATIONS, "live-squared"))
    assert "live-squared" in registry_names("allocation")
    check_allocation("live-squared")
