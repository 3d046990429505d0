"""Newton over the live weights of a pruned net: dead weights stay exactly zero."""
import pytest
import torch

from sparsenet.errors import ConfigError
from sparsenet.masks import apply_masks, magnitude_scores, select_global
from sparsenet.models import MLP
from sparsenet.optim import ParamSpace, SaddleFreeNewton, exact_hessian, layer_groups, live_count, live_param_groups


def pruned_net(keep=20):
    torch.manual_seed(0)
    net = MLP([6, 8, 3], activation="tanh").double()
    masks = select_global(magnitude_scores(net), keep=keep)
    apply_masks(net, masks)
    x, y = torch.randn(30, 6, dtype=torch.float64), torch.randn(30, 3, dtype=torch.float64)
    return net, masks, (lambda: ((net(x) - y) ** 2).mean())


def test_live_groups_count_and_restricted_hessian():
    net, masks, closure = pruned_net()
    groups = live_param_groups(net, masks)
    assert len(groups) == 1 and live_count(groups) == 20 + 8 + 3
    H_live = exact_hessian(closure, ParamSpace(groups[0]["params"], groups[0]["masks"]))
    H = exact_hessian(closure, list(net.parameters()))
    live = torch.cat([(masks.get(n, torch.ones_like(p, dtype=torch.bool))).reshape(-1) for n, p in net.named_parameters()])
    torch.testing.assert_close(H_live, H[live][:, live])


def test_sfn_over_live_weights_keeps_dead_weights_zero_and_reduces_loss():
    net, masks, closure = pruned_net()
    opt = SaddleFreeNewton(live_param_groups(net, masks, block="layer"), lr=1.0, damping=0.1,
                           hessian="block", line_search=True)
    start = float(closure().detach())
    for _ in range(5):
        opt.step(closure)
    for name, m in masks.items():
        assert torch.all(dict(net.named_parameters())[name][~m] == 0)
    assert float(closure().detach()) < start


def test_layer_groups_pair_weight_and_bias():
    net = MLP([4, 3, 2])
    groups = layer_groups(net)
    assert [g["names"] for g in groups] == [["layers.0.weight", "layers.0.bias"], ["layers.1.weight", "layers.1.bias"]]


def test_unknown_mask_name_and_block():
    net = MLP([4, 3, 2])
    with pytest.raises(ConfigError, match="layers.9.weight"):
        live_param_groups(net, {"layers.9.weight": torch.ones(3, 4, dtype=torch.bool)})
    with pytest.raises(ConfigError, match="full, layer"):
        live_param_groups(net, {}, block="row")
