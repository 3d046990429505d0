"""KWinners / KWinners2d: hand-computed winners, boosting, duty cycles, ties, gradients, state_dict, errors."""
import math

import pytest
import torch
from torch import nn

from sparsenet.errors import SparsenetError
from sparsenet.nn import KWinners, KWinners2d, SparseLinear
from sparsenet.nn.kwinners import winner_mask


def _reference_mask(v: torch.Tensor, k: int) -> torch.Tensor:
    """Independent oracle: a stable descending sort puts equal values in index order."""
    order = torch.sort(v, dim=-1, descending=True, stable=True).indices[..., :k]
    return torch.zeros_like(v, dtype=torch.bool).scatter_(-1, order, True)


# ---- selection ------------------------------------------------------------------------------
def test_exactly_k_winners_in_training_and_k_inf_in_eval():
    layer = KWinners(7, 2)  # k_inf = round(2 * 1.5) = 3
    x = torch.rand(5, 7) + 0.1  # positive: a winner is a nonzero
    assert (layer(x) != 0).sum(dim=1).tolist() == [2] * 5
    layer.eval()
    assert layer.k_inference == 3
    assert (layer(x) != 0).sum(dim=1).tolist() == [3] * 5
    assert KWinners(7, 5).k_inference == 7  # min(n, round(7.5))
    assert KWinners(10, percent_on=0.3).k == 3


def test_boosting_changes_the_winner_and_the_output_is_unboosted():
    layer = KWinners(3, 1, boost_strength=1.0)
    layer.duty_cycle.copy_(torch.tensor([1.0, 0.0, 0.0]))  # unit 0 won too often
    x = torch.tensor([[1.0, 0.9, 0.1]])
    # boosts exp(1/3 - 1), exp(1/3), exp(1/3): boosted 0.513 < 1.256, so unit 1 wins, not unit 0
    assert 1.0 * math.exp(1 / 3 - 1) < 0.9 * math.exp(1 / 3)
    y = layer(x)
    assert torch.equal(y, torch.tensor([[0.0, 0.9, 0.0]]))
    assert y[0, 1].item() == x[0, 1].item()  # the value passes unboosted, bit for bit
    # without boosting the plain top-1 wins
    plain = KWinners(3, 1, boost_strength=0.0)
    plain.duty_cycle.copy_(torch.tensor([1.0, 0.0, 0.0]))
    assert torch.equal(plain(x), torch.tensor([[1.0, 0.0, 0.0]]))


def test_ties_go_to_the_lower_index():
    layer = KWinners(5, 2, boost_strength=0.0)
    x = torch.tensor([[1.0, 2.0, 2.0, 2.0, 0.0],   # three tied at the threshold: indices 1, 2 win
                      [5.0, 5.0, 5.0, 5.0, 5.0],   # all tied: 0, 1
                      [0.0, 3.0, 1.0, 2.0, 4.0]])  # no tie (mixed with tied rows in one batch)
    assert torch.equal(layer(x), torch.tensor([[0.0, 2.0, 2.0, 0.0, 0.0],
                                               [5.0, 5.0, 0.0, 0.0, 0.0],
                                               [0.0, 3.0, 0.0, 0.0, 4.0]]))
    assert torch.equal(winner_mask(torch.tensor([[-1.0, -1.0, -1.0]]), 1), torch.tensor([[True, False, False]]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])  # float16: the topk path
@pytest.mark.parametrize("shape,k", [((1, 1), 1), ((3, 13), 5), ((2, 3, 9), 9), ((4, 31), 1)])
def test_winner_mask_matches_the_stable_sort_oracle(shape, k, dtype):
    g = torch.Generator().manual_seed(k)
    v = torch.randint(-3, 4, shape, generator=g).to(dtype)  # few distinct values: many ties
    assert torch.equal(winner_mask(v, k), _reference_mask(v, k))
    w = torch.randn(shape, generator=g).to(dtype)
    assert torch.equal(winner_mask(w, k), _reference_mask(w, k))


def test_layer_matches_boosted_reference_on_random_inputs():
    g = torch.Generator().manual_seed(1)
    layer = KWinners(11, 4, boost_strength=2.0)
    layer.duty_cycle.copy_(torch.rand(11, generator=g))
    x = torch.randn(6, 11, generator=g)
    b = torch.exp(2.0 * (4 / 11 - layer.duty_cycle))
    expected = torch.where(_reference_mask(x * b, 4), x, torch.zeros(()))
    assert torch.equal(layer(x), expected)


# ---- gradient --------------------------------------------------------------------------------
def test_gradient_is_the_winner_mask():
    layer = KWinners(6, 3, boost_strength=1.5)
    layer.duty_cycle.copy_(torch.tensor([0.9, 0.0, 0.3, 0.1, 0.0, 0.6]))
    x = torch.tensor([[0.5, -0.2, 1.5, 0.7, 0.1, 2.0], [3.0, 2.0, 1.0, -1.0, -2.0, -3.0]], requires_grad=True)
    y = layer(x)
    g = torch.arange(1.0, 13.0).view(2, 6)
    y.backward(g)
    mask = y.detach() != 0
    assert mask.sum(dim=1).tolist() == [3, 3]
    assert torch.equal(x.grad, g * mask)


@pytest.mark.parametrize("train", [False, True])
def test_gradcheck_float64(train):
    layer = KWinners(9, 4, boost_strength=1.0 if not train else 0.0).double()
    layer.duty_cycle.copy_(torch.linspace(0, 0.8, 9, dtype=torch.float64))
    layer.train(train)
    x = (torch.randperm(27, generator=torch.Generator().manual_seed(0)).double().view(3, 9) / 7 - 1.5)
    assert torch.autograd.gradcheck(layer, (x.requires_grad_(),), eps=1e-6, atol=1e-8)
    layer2d = KWinners2d(3, 2, local=True, boost_strength=0.0).double().train(train)
    x2 = (torch.randperm(24, generator=torch.Generator().manual_seed(1)).double().view(2, 3, 2, 2) / 5)
    assert torch.autograd.gradcheck(layer2d, (x2.requires_grad_(),), eps=1e-6, atol=1e-8)


# ---- duty cycles and boost strength ------------------------------------------------------------
def test_duty_cycle_update_two_steps_by_hand():
    layer = KWinners(4, 2, boost_strength=0.0, duty_cycle_period=4)
    layer(torch.tensor([[4.0, 3.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0]]))  # w = [.5, .5, .5, .5]
    assert layer.duty_cycle.tolist() == [0.125] * 4  # (0 * 3 + 0.5) / 4
    layer(torch.tensor([[4.0, 3.0, 2.0, 1.0], [4.0, 3.0, 1.0, 2.0]]))  # w = [1, 1, 0, 0]
    assert layer.duty_cycle.tolist() == [0.34375, 0.34375, 0.09375, 0.09375]  # (0.125*3 + w) / 4
    layer.boost_strength.fill_(2.0)
    expected = [math.exp(2.0 * (0.5 - d)) for d in (0.34375, 0.34375, 0.09375, 0.09375)]
    torch.testing.assert_close(layer.boost_factors(0.5), torch.tensor(expected))


def test_boost_strength_decays_per_call():
    layer = KWinners(4, 1, boost_strength=2.0, boost_strength_factor=0.5)
    layer.update_boost_strength()
    assert layer.boost_strength.item() == 1.0
    layer.update_boost_strength()
    assert layer.boost_strength.item() == 0.5


def test_eval_updates_nothing():
    layer = KWinners(4, 2, duty_cycle_period=2)
    layer(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
    before, beta = layer.duty_cycle.clone(), layer.boost_strength.clone()
    assert before.tolist() == [0.0, 0.0, 0.5, 0.5]
    layer.eval()
    layer(torch.tensor([[4.0, 3.0, 2.0, 1.0]]))
    assert torch.equal(layer.duty_cycle, before) and torch.equal(layer.boost_strength, beta)


def test_batch_one_and_leading_dims():
    layer = KWinners(5, 2, boost_strength=0.0, duty_cycle_period=1)
    assert torch.equal(layer(torch.tensor([3.0, 1.0, 4.0, 1.5, 0.0])), torch.tensor([3.0, 0.0, 4.0, 0.0, 0.0]))
    assert layer.duty_cycle.tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]  # T = 1: this sample's winners
    x = torch.tensor([[[3.0, 1.0, 4.0, 1.5, 0.0]], [[0.0, 1.0, 0.5, 2.0, 9.0]]])  # (2, 1, 5)
    assert layer(x).shape == (2, 1, 5)
    assert layer.duty_cycle.tolist() == [0.5, 0.0, 0.5, 0.5, 0.5]
    assert layer(torch.zeros(0, 5)).shape == (0, 5)
    assert layer.duty_cycle.tolist() == [0.5, 0.0, 0.5, 0.5, 0.5]  # an empty batch changes nothing


# ---- 2-D ------------------------------------------------------------------------------------------
_X2 = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]],
                     [[10.0, 11.0], [0.0, -1.0]],
                     [[5.0, 6.0], [7.0, 8.0]]]])  # (1, 3, 2, 2)


def test_kwinners2d_global_by_hand():
    layer = KWinners2d(3, 3, boost_strength=0.0, duty_cycle_period=2)
    y = layer(_X2)  # the 3 largest of all 12 units: 11, 10, 8
    expected = torch.zeros_like(_X2)
    expected[0, 1, 0] = torch.tensor([10.0, 11.0])
    expected[0, 2, 1, 1] = 8.0
    assert torch.equal(y, expected)
    assert layer.duty_cycle.tolist() == [0.0, 0.25, 0.125]  # w_c = [0, 2/4, 1/4], halved (T = 2)
    layer.eval()  # k_inf = round(4.5) = 4: adds 7
    assert (layer(_X2) != 0).sum().item() == 4 and layer(_X2)[0, 2, 1, 0].item() == 7.0
    assert (KWinners2d(3, percent_on=0.25, boost_strength=0.0)(_X2) != 0).sum().item() == 3


def test_kwinners2d_global_boost_is_per_channel():
    layer = KWinners2d(3, 3, boost_strength=1.0)
    layer.duty_cycle.copy_(torch.tensor([0.0, 2.0, 0.0]))  # channel 1 damped by exp(-2)
    b = [math.exp(0.25 - d) for d in (0.0, 2.0, 0.0)]  # â = 3 / 12
    assert 11.0 * b[1] < 6.0 * b[2]
    y = layer(_X2)  # boosted top-3 are channel 2's 8, 7, 6
    assert torch.equal(y.nonzero()[:, 1].unique(), torch.tensor([2]))
    assert sorted(y[y != 0].tolist()) == [6.0, 7.0, 8.0]


def test_kwinners2d_local_by_hand():
    layer = KWinners2d(3, 1, local=True, boost_strength=0.0, duty_cycle_period=1)
    y = layer(_X2)  # per position the largest channel: 1, 1, 2, 2
    expected = torch.zeros_like(_X2)
    expected[0, 1, 0] = torch.tensor([10.0, 11.0])
    expected[0, 2, 1] = torch.tensor([7.0, 8.0])
    assert torch.equal(y, expected)
    assert layer.duty_cycle.tolist() == [0.0, 0.5, 0.5]
    tied = torch.ones(1, 3, 1, 2)
    assert torch.equal(layer(tied), torch.tensor([[[[1.0, 1.0]], [[0.0, 0.0]], [[0.0, 0.0]]]]))  # channel 0
    layer.eval()  # k_inf = round(1.5) = 2 channels per position
    assert (layer(_X2) != 0).sum(dim=1).tolist() == [[[2, 2], [2, 2]]]


def test_kwinners2d_local_matches_reference():
    g = torch.Generator().manual_seed(3)
    layer = KWinners2d(5, 2, local=True, boost_strength=1.0)
    layer.duty_cycle.copy_(torch.rand(5, generator=g))
    x = torch.randn(2, 5, 3, 3, generator=g)
    b = torch.exp(1.0 * (2 / 5 - layer.duty_cycle)).view(1, 5, 1, 1)
    mask = _reference_mask((x * b).permute(0, 2, 3, 1), 2).permute(0, 3, 1, 2)
    assert torch.equal(layer(x), torch.where(mask, x, torch.zeros(())))


# ---- state_dict -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: KWinners(6, 2, duty_cycle_period=3),
                                  lambda: KWinners2d(3, 2, local=True, duty_cycle_period=3)])
def test_state_dict_round_trip_continues_identically(make):
    g = torch.Generator().manual_seed(0)
    shape = (4, 6) if isinstance(make(), KWinners) else (2, 3, 2, 2)
    a = make()
    for _ in range(3):
        a(torch.randn(shape, generator=g))
    a.update_boost_strength()
    state = a.state_dict()
    assert set(state) == {"boost_strength", "duty_cycle"}
    b = make()
    b.load_state_dict(state)
    assert torch.equal(b.duty_cycle, a.duty_cycle) and b.boost_strength.item() == pytest.approx(0.9)
    for _ in range(3):
        x = torch.randn(shape, generator=g)
        assert torch.equal(a(x), b(x))
    assert torch.equal(a.duty_cycle, b.duty_cycle)


def test_extra_repr():
    assert "n=8, k=2, k_inference=3" in repr(KWinners(8, 2))
    assert "percent_on=0.1, local=False" in repr(KWinners2d(4, percent_on=0.1))


# ---- with sparse weights ----------------------------------------------------------------------------
def test_sparse_net_trains():
    torch.manual_seed(0)
    x = torch.randn(64, 10)
    y = (x[:, 0] + x[:, 1] > 0).long()
    net = nn.Sequential(SparseLinear.random(10, 40, 0.5, generator=torch.Generator().manual_seed(0)),
                        KWinners(40, 8), nn.Linear(40, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert net[0].values.grad.abs().sum() > 0  # the gradient reaches the sparse weights through the winners


# ---- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    ({"n": 4, "k": 0}, r"k 0 must be an integer in \[1, 4\]"),
    ({"n": 4, "k": 5}, r"k 5 must be an integer in \[1, 4\]"),
    ({"n": 4, "k": 2.0}, "k 2.0 must be an integer"),
    ({"n": 4}, "exactly one of k"),
    ({"n": 4, "k": 1, "percent_on": 0.5}, "exactly one of k"),
    ({"n": 4, "percent_on": 0.0}, r"percent_on 0.0 must be in \(0, 1\]"),
    ({"n": 4, "percent_on": 1.5}, r"percent_on 1.5 must be in \(0, 1\]"),
    ({"n": 0, "k": 1}, "n 0 must be a positive integer"),
    ({"n": 4, "k": 1, "boost_strength": -1.0}, "boost_strength -1.0 must be a finite number >= 0"),
    ({"n": 4, "k": 1, "boost_strength_factor": 1.5}, r"boost_strength_factor 1.5 must be in \[0, 1\]"),
    ({"n": 4, "k": 1, "duty_cycle_period": 0}, "duty_cycle_period 0 must be a positive integer"),
    ({"n": 4, "k": 1, "k_inference_factor": 0.5}, "k_inference_factor 0.5 must be a number >= 1"),
    ({"n": 4, "k": 1, "break_ties": "random"}, "break_ties 'random' is unknown; valid: index"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(SparsenetError, match=match) as err:
        KWinners(**kwargs)
    assert "\n" not in str(err.value)  # one line


def test_bad_2d_arguments_and_inputs():
    with pytest.raises(SparsenetError, match=r"k 4 must be an integer in \[1, 3\]"):
        KWinners2d(3, 4, local=True)
    with pytest.raises(SparsenetError, match="channels 0 must be a positive integer"):
        KWinners2d(0, 1)
    with pytest.raises(SparsenetError, match=r"k=13 exceeds the C\*H\*W=12 units"):
        KWinners2d(3, 13)(_X2)
    with pytest.raises(SparsenetError, match=r"KWinners2d\(channels=4\) got input of shape \(1, 3, 2, 2\)"):
        KWinners2d(4, 1)(_X2)
    with pytest.raises(SparsenetError, match=r"it needs \(B, 3, H, W\)"):
        KWinners2d(3, 1)(torch.ones(3, 4))


def test_bad_inputs():
    with pytest.raises(SparsenetError, match=r"KWinners\(n=4\) got input of shape \(2, 5\): its last dimension must be 4"):
        KWinners(4, 1)(torch.ones(2, 5))
    with pytest.raises(SparsenetError, match="needs a floating-point input"):
        KWinners(4, 1)(torch.ones(2, 4, dtype=torch.int64))
    with pytest.raises(SparsenetError, match="NaN"):
        KWinners(4, 2)(torch.tensor([[1.0, float("nan"), 0.0, 2.0]]))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    g = torch.Generator().manual_seed(5)
    x = torch.randint(-3, 4, (8, 33), generator=g).float()  # ties: the topk path must break them by index too
    cpu, gpu = KWinners(33, 7), KWinners(33, 7).cuda()
    assert torch.equal(gpu(x.cuda()).cpu(), cpu(x))
    assert torch.equal(gpu.duty_cycle.cpu(), cpu.duty_cycle)
