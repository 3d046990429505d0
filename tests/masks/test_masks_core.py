import pytest
import torch
from torch import nn

from sparsenet.errors import ConfigError, SparsenetError
from sparsenet.masks import (
    apply_masks,
    count_live,
    count_total,
    density,
    full_masks,
    hamming_distance,
    layer_stats,
    load_masks,
    overlap,
    prunable_names,
    save_masks,
    sparsity,
    validate_masks,
)
from sparsenet.models import MLP

T, F = True, False


def _net(sizes=(4, 3, 3, 2), seed=0, activation="tanh"):
    torch.manual_seed(seed)
    return MLP(list(sizes), activation=activation)


# ------------------------------------------------------------------------- prunable_names


def test_prunable_names_mlp():
    assert prunable_names(_net()) == ["layers.0.weight", "layers.1.weight", "layers.2.weight"]


def test_prunable_names_conv_model_skips_1d_params():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    assert prunable_names(model) == ["0.weight", "3.weight"]


@pytest.mark.parametrize(
    "skip, expected",
    [
        ("first", ["layers.1.weight", "layers.2.weight"]),
        (["last"], ["layers.0.weight", "layers.1.weight"]),
        (["first", "last"], ["layers.1.weight"]),
        (["layers.1.weight"], ["layers.0.weight", "layers.2.weight"]),
        (("layers.[01].*",), ["layers.2.weight"]),
        (["first", "layers.0.weight"], ["layers.1.weight", "layers.2.weight"]),
        ((), ["layers.0.weight", "layers.1.weight", "layers.2.weight"]),
    ],
)
def test_prunable_names_skip(skip, expected):
    assert prunable_names(_net(), skip=skip) == expected


@pytest.mark.parametrize("skip", ["layers.9.weight", ["layers.0.bias"], ["fc*"], ["First"]])
def test_prunable_names_unknown_skip_lists_names(skip):
    with pytest.raises(ConfigError) as info:
        prunable_names(_net(), skip=skip)
    assert "layers.0.weight, layers.1.weight, layers.2.weight" in str(info.value)


# ------------------------------------------------------------------------------ validate


def test_validate_accepts_good_masks():
    net = _net()
    validate_masks(net, full_masks(net))
    validate_masks(net, {"layers.0.bias": torch.ones(3, dtype=torch.bool)})  # biases may be masked
    validate_masks(net, {})


@pytest.mark.parametrize(
    "masks, key, fragment",
    [
        ({"layers.7.weight": torch.ones(2, 2, dtype=torch.bool)}, "layers.7.weight", "names no parameter"),
        ({"layers.0.weight": torch.ones(3, 4)}, "layers.0.weight", "torch.bool"),
        ({"layers.0.weight": torch.ones(4, 3, dtype=torch.bool)}, "layers.0.weight", "(4, 3)"),
        ({"layers.1.weight": [[True]]}, "layers.1.weight", "list"),
    ],
)
def test_validate_rejects_bad_masks(masks, key, fragment):
    with pytest.raises(SparsenetError) as info:
        validate_masks(_net(), masks)
    assert repr(key) in str(info.value)
    assert fragment in str(info.value)


def test_full_masks():
    net = _net()
    masks = full_masks(net)
    assert list(masks) == prunable_names(net)
    assert all(m.dtype == torch.bool and bool(m.all()) for m in masks.values())
    assert masks["layers.0.weight"].shape == (3, 4)
    assert list(full_masks(net, ["layers.2.weight"])) == ["layers.2.weight"]
    with pytest.raises(SparsenetError, match="layers.5.weight"):
        full_masks(net, ["layers.5.weight"])


# --------------------------------------------------------------------------------- apply


def test_apply_masks_zeroes_exactly_the_pruned_weights():
    net = MLP([3, 2])
    w0 = torch.tensor([[1.0, -2.0, float("inf")], [4.0, 5.0, -6.0]])
    with torch.no_grad():
        net.layers[0].weight.copy_(w0)
    param = net.layers[0].weight
    apply_masks(net, {"layers.0.weight": torch.tensor([[T, F, F], [F, T, T]])})
    assert net.layers[0].weight is param  # in place, same Parameter
    torch.testing.assert_close(net.layers[0].weight.detach(), torch.tensor([[1.0, 0.0, 0.0], [0.0, 5.0, -6.0]]))
    assert net.layers[0].weight.requires_grad  # still a trainable parameter


def test_apply_masks_validates():
    with pytest.raises(SparsenetError, match="layers.3.weight"):
        apply_masks(_net(), {"layers.3.weight": torch.ones(1, dtype=torch.bool)})


def test_pruning_never_renames_parameters():
    """A pruned model's state_dict loads (strict) into a fresh unpruned model of the same sizes."""
    pruned = _net((10, 8, 6, 3), seed=1, activation="relu")
    torch.manual_seed(5)
    masks = {n: torch.rand_like(p) > 0.6 for n, p in pruned.named_parameters() if p.dim() == 2}
    apply_masks(pruned, masks)
    fresh = _net((10, 8, 6, 3), seed=2, activation="relu")
    assert list(pruned.state_dict()) == list(fresh.state_dict())
    fresh.load_state_dict(pruned.state_dict(), strict=True)
    x = torch.randn(7, 10)
    torch.testing.assert_close(fresh(x), pruned(x))
    for n, m in masks.items():
        assert bool((fresh.get_parameter(n)[~m] == 0).all())


# ----------------------------------------------------------------------------- statistics

HAND = {
    "a": torch.tensor([[T, F], [F, F]]),  # 1 of 4
    "b": torch.tensor([T, T, F, T, F, T]),  # 4 of 6
}


def test_counts_and_density_hand_computed():
    assert count_live(HAND) == 5
    assert count_total(HAND) == 10
    assert density(HAND) == 0.5
    assert sparsity(HAND) == 0.5
    assert layer_stats(HAND) == [
        {"name": "a", "live": 1, "total": 4, "density": 0.25},
        {"name": "b", "live": 4, "total": 6, "density": 4 / 6},
    ]


def test_stats_of_empty_masks():
    empty = {"w": torch.zeros(0, 3, dtype=torch.bool)}
    assert count_live(empty) == 0
    assert density(empty) == 1.0
    assert density({}) == 1.0
    assert layer_stats(empty) == [{"name": "w", "live": 0, "total": 0, "density": 1.0}]


def test_stats_reject_non_bool():
    with pytest.raises(SparsenetError, match="'w'"):
        count_live({"w": torch.ones(3)})


def test_hamming_and_overlap_hand_computed():
    a = {"x": torch.tensor([T, T, F, F]), "y": torch.tensor([[T, F], [T, F]])}
    b = {"x": torch.tensor([T, F, T, F]), "y": torch.tensor([[T, F], [F, F]])}
    # differences: x at 1, 2; y at (1, 0) -> 3 of 8
    assert hamming_distance(a, b) == 3 / 8
    assert hamming_distance(a, a) == 0.0
    # |a & b| = 1 (x0) + 1 (y00) = 2; |a| = 4; |b| = 3; |a | b| = 5
    assert overlap(a, b) == 2 / 4
    assert overlap(b, a) == 2 / 3
    assert overlap(a, b, kind="iou") == 2 / 5
    assert overlap(a, b, kind="iou") == overlap(b, a, kind="iou")
    assert overlap(a, a) == 1.0


def test_hamming_complement_is_one():
    a = {"x": torch.tensor([T, F, T])}
    assert hamming_distance(a, {"x": ~a["x"]}) == 1.0


def test_overlap_empty_and_errors():
    none = {"x": torch.zeros(3, dtype=torch.bool)}
    assert overlap(none, none) == 1.0
    assert overlap(none, none, kind="iou") == 1.0
    with pytest.raises(ConfigError, match="fraction, iou"):
        overlap(none, none, kind="dice")
    with pytest.raises(SparsenetError, match="different keys"):
        hamming_distance(none, {"y": torch.zeros(3, dtype=torch.bool)})
    with pytest.raises(SparsenetError, match="'x'"):
        overlap(none, {"x": torch.zeros(4, dtype=torch.bool)})


# ------------------------------------------------------------------------------------ I/O


def test_save_load_round_trip_in_natural_order(tmp_path):
    masks = {f"layers.{i}.weight": torch.rand(3, 2) > 0.5 for i in (0, 2, 10)}
    path = save_masks(tmp_path / "masks.safetensors", masks)
    loaded = load_masks(path)
    assert list(loaded) == ["layers.0.weight", "layers.2.weight", "layers.10.weight"]
    for k in masks:
        assert loaded[k].dtype == torch.bool
        assert torch.equal(loaded[k], masks[k])


def test_load_with_model_validates_and_orders(tmp_path):
    net = _net()
    masks = {"layers.2.weight": torch.ones(2, 3, dtype=torch.bool), "layers.0.weight": torch.eye(3, 4, dtype=torch.bool)}
    save_masks(tmp_path / "m.safetensors", masks)
    loaded = load_masks(tmp_path / "m.safetensors", net)
    assert list(loaded) == ["layers.0.weight", "layers.2.weight"]
    with pytest.raises(SparsenetError, match="layers.2.weight"):
        load_masks(tmp_path / "m.safetensors", MLP([4, 3, 3, 5]))


def test_save_rejects_non_bool(tmp_path):
    with pytest.raises(SparsenetError):
        save_masks(tmp_path / "m.safetensors", {"w": torch.ones(2)})
    assert not (tmp_path / "m.safetensors").exists()
