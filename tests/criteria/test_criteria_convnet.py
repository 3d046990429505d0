"""Every criterion also scores a small ConvNet (conv weights, conv -> Linear), purely."""
import pytest
import torch

from sparsenet.criteria import CRITERIA, score
from sparsenet.models import build_model


@pytest.mark.parametrize("name", CRITERIA.names())
def test_every_criterion_scores_a_convnet(name):
    torch.manual_seed(0)
    net = build_model("convnet", spec="3-4:5")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    g = torch.Generator().manual_seed(1)
    batch = (torch.rand(6, 1, 28, 28, generator=g), torch.randint(0, 10, (6,), generator=g))
    s = score(net, name, batch=batch)
    params = dict(net.named_parameters())
    assert list(s) == ["convs.0.weight", "convs.1.weight", "fcs.0.weight", "fcs.1.weight"]
    for k, v in s.items():
        want = (params[k].shape[0],) if CRITERIA.get(name).granularity == "neuron" else params[k].shape
        assert v.shape == want and torch.isfinite(v).all(), k
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
