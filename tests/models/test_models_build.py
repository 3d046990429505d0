import pytest
import torch

from sparsenet.errors import ConfigError
from sparsenet.models import MLP, build_model, model_names


def test_model_names():
    assert model_names() == ["convnet", "hashed-mlp", "kwta-mlp", "lenet300100", "lowrank-mlp", "mlp", "rnn"]


def test_build_mlp():
    net = build_model("mlp", spec="20-8-4")
    assert isinstance(net, MLP)
    assert net.sizes == [20, 8, 4]
    assert net.activation == "tanh"  # the MLP default
    net = build_model("mlp", spec="20-8-4", activation="leaky_relu", leaky_slope=0.2)
    assert (net.activation, net.leaky_slope) == ("leaky_relu", 0.2)


def test_build_mlp_needs_spec():
    with pytest.raises(ConfigError, match="spec"):
        build_model("mlp")


def test_build_mlp_checks_data_sizes():
    assert build_model("mlp", spec="20-8-4", in_features=20, num_classes=4).sizes == [20, 8, 4]
    with pytest.raises(ConfigError) as info:
        build_model("mlp", spec="784-300-10", in_features=40)
    assert "784" in str(info.value) and "40" in str(info.value)
    with pytest.raises(ConfigError) as info:
        build_model("mlp", spec="784-300-10", num_classes=100)
    assert "10 outputs" in str(info.value) and "num_classes=100" in str(info.value)


@pytest.mark.parametrize("bad", [0, -3, 2.0, True])
def test_build_rejects_bad_counts(bad):
    with pytest.raises(ConfigError, match="positive integer"):
        build_model("mlp", spec="4-2", in_features=bad)
    with pytest.raises(ConfigError, match="positive integer"):
        build_model("lenet300100", num_classes=bad)


def test_build_lenet300100():
    net = build_model("lenet300100")
    assert net.sizes == [784, 300, 100, 10]
    assert net.activation == "relu"
    # 784*300 + 300 + 300*100 + 100 + 100*10 + 10, the 266k parameters of Frankle & Carbin 2019
    assert sum(p.numel() for p in net.parameters()) == 266_610
    net = build_model("lenet300100", in_features=40, num_classes=5, activation="tanh")
    assert net.sizes == [40, 300, 100, 5]
    assert net.activation == "tanh"
    assert net(torch.zeros(2, 40)).shape == (2, 5)


def test_build_lenet_rejects_spec():
    with pytest.raises(ConfigError, match="mlp"):
        build_model("lenet300100", spec="784-300-100-10")


def test_unknown_model_lists_valid_ones():
    with pytest.raises(ConfigError) as info:
        build_model("resnet")
    assert "'resnet'" in str(info.value)
    assert "lenet300100" in str(info.value) and "mlp" in str(info.value)


def test_build_is_deterministic():
    torch.manual_seed(7)
    a = build_model("lenet300100")
    torch.manual_seed(7)
    b = build_model("lenet300100")
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
