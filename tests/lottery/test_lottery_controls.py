"""Controls of Zhou et al. 2019 on small tensors: reshuffle, signed constant, random mask, reinit."""
import torch

from sparsenet.lottery import constant_state, control_start, random_masks, reshuffle_state
from sparsenet.models import MLP

W = torch.tensor([[0.5, -1.0, 2.0], [-3.0, 4.0, -0.25]])
M = torch.tensor([[True, False, True], [True, True, False]])


def test_reshuffle_keeps_multiset_of_survivors_and_mask():
    out = reshuffle_state({"w": W, "b": torch.ones(2)}, {"w": M}, torch.Generator().manual_seed(3))
    w = out["w"]
    assert sorted(w[M].tolist()) == sorted([0.5, 2.0, -3.0, 4.0])
    assert (w[~M] == 0).all()
    assert torch.equal(out["b"], torch.ones(2))
    # some seed moves something (4 values: the identity has probability 1/24 per seed)
    moved = [not torch.equal(reshuffle_state({"w": W}, {"w": M}, torch.Generator().manual_seed(s))["w"][M], W[M])
             for s in range(5)]
    assert any(moved)


def test_constant_is_layer_std_times_init_sign():
    a = float(W.std())
    out = constant_state({"w": W}, {"w": M})["w"]
    expected = torch.tensor([[a, 0.0, a], [-a, a, 0.0]])
    torch.testing.assert_close(out, expected)


def test_random_mask_keeps_per_layer_counts():
    masks = {"a": M, "b": torch.tensor([True, False, False, False, False])}
    r = random_masks(masks, torch.Generator().manual_seed(0))
    assert int(r["a"].sum()) == 4 and int(r["b"].sum()) == 1
    assert r["a"].shape == M.shape and r["a"].dtype == torch.bool


def test_reinit_is_a_fresh_deterministic_draw():
    build = lambda: MLP([3, 2])  # noqa: E731
    torch.manual_seed(0)
    state = {k: v.clone() for k, v in build().state_dict().items()}
    masks = {"layers.0.weight": M}
    s1, m1 = control_start("reinit", state, masks, seed=11, build=build)
    s2, _ = control_start("reinit", state, masks, seed=11, build=build)
    assert torch.equal(s1["layers.0.weight"], s2["layers.0.weight"])
    assert not torch.equal(s1["layers.0.weight"], state["layers.0.weight"])
    assert torch.equal(m1["layers.0.weight"], M)
