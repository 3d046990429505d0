"""ElmanRNN against torch.nn.RNN (forward, BPTT gradients), sparse (SparseLinear) against its masked
dense twin, and the layers seen by the pruning tools."""
import pytest
import torch
from torch import nn

from sparsenet.errors import SparsenetError
from sparsenet.masks import prunable_names
from sparsenet.nn import SparseLinear, sparsify
from sparsenet.nn.rnn import ElmanRNN, RNNClassifier
from sparsenet.prune import prune


def _pair(seed=0, n_in=5, hidden=7):
    torch.manual_seed(seed)
    ref = nn.RNN(n_in, hidden, nonlinearity="tanh", batch_first=True)
    return ref, ElmanRNN.from_torch(ref)


@pytest.mark.parametrize("B,T", [(1, 1), (3, 6), (4, 11)])
def test_forward_and_bptt_match_torch_rnn(B, T):
    ref, ours = _pair()
    x = torch.randn(B, T, 5)
    h0 = torch.randn(1, B, 7)
    out_r, h_r = ref(x, h0)
    out_o, h_o = ours(x, h0[0])
    torch.testing.assert_close(out_o, out_r)
    torch.testing.assert_close(h_o, h_r[0])
    (out_r.square().sum() + h_r.sum()).backward()
    (out_o.square().sum() + h_o.sum()).backward()
    for a, b in [(ours.ih.weight, ref.weight_ih_l0), (ours.hh.weight, ref.weight_hh_l0),
                 (ours.ih.bias, ref.bias_ih_l0), (ours.hh.bias, ref.bias_hh_l0)]:
        torch.testing.assert_close(a.grad, b.grad)


def test_float64_gradcheck_through_time():
    torch.manual_seed(1)
    rnn = ElmanRNN(3, 4).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: rnn(x)[0], (x,))


def test_sparse_rnn_equals_its_masked_dense_twin_forward_and_backward():
    torch.manual_seed(2)
    dense = RNNClassifier(6, 16, 3)
    masks = prune(dense, "magnitude", 0.8, names=["rnn.ih.weight", "rnn.hh.weight"], enforce=False)
    assert prunable_names(dense)[:2] == ["rnn.ih.weight", "rnn.hh.weight"]
    sparse = RNNClassifier(6, 16, 3)
    sparse.load_state_dict(dense.state_dict())
    sparsify(sparse, masks)
    assert isinstance(sparse.rnn.ih, SparseLinear) and isinstance(sparse.rnn.hh, SparseLinear)
    assert sparse.rnn.hh.nnz == int(masks["rnn.hh.weight"].sum()) == round(0.2 * 256)
    x, y = torch.randn(4, 9, 6), torch.randint(0, 3, (4,))
    torch.testing.assert_close(sparse(x), dense(x))
    nn.functional.cross_entropy(sparse(x), y).backward()
    nn.functional.cross_entropy(dense(x), y).backward()
    for name in ("ih", "hh"):
        s, d = getattr(sparse.rnn, name), getattr(dense.rnn, name)
        g = torch.zeros_like(d.weight)
        g[s.row, s.col.long()] = s.values.grad
        torch.testing.assert_close(g, d.weight.grad * masks[f"rnn.{name}.weight"])
        torch.testing.assert_close(s.bias.grad, d.bias.grad)


def test_a_sparse_rnn_learns_a_sequence_task():
    torch.manual_seed(3)
    model = RNNClassifier(1, 32, 2)
    sparsify(model, prune(model, "random", 0.7, names=["rnn.ih.weight", "rnn.hh.weight"], enforce=False))
    x = torch.randn(64, 12, 1)
    y = (x.sum(dim=(1, 2)) > 0).long()  # the sign of the sum: needs memory over all 12 steps
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]
    assert float((model(x).argmax(1) == y).float().mean()) > 0.85


@pytest.mark.parametrize("bad", [torch.randn(4, 5), torch.randn(2, 3, 4), torch.randn(2, 0, 5)])
def test_bad_sequences_are_one_line_errors(bad):
    rnn = ElmanRNN(5, 3)
    with pytest.raises(SparsenetError) as e:
        rnn(bad)
    assert "\n" not in str(e.value)
    with pytest.raises(SparsenetError, match="hidden_size"):
        ElmanRNN(5, 0)


def test_last_state_is_the_last_output_and_classifier_reads_flat_rows():
    torch.manual_seed(1)
    rnn = ElmanRNN(4, 6)
    x = torch.randn(3, 5, 4)
    outs, h = rnn(x)
    torch.testing.assert_close(rnn.last_state(x), h)
    torch.testing.assert_close(outs[:, -1], h)
    clf = RNNClassifier(4, 6, 3, seq_len=5)
    torch.testing.assert_close(clf(x.reshape(3, 20)), clf(x))  # a flat batch is 5 steps of 4 values
    with pytest.raises(SparsenetError, match=r"expects \(B, 20\) flat or \(B, 5, 4\)"):
        clf(torch.randn(3, 21))
    with pytest.raises(SparsenetError, match="seq_len=0"):
        RNNClassifier(4, 6, 3, seq_len=0)


def test_init_is_uniform_by_fan_in():
    torch.manual_seed(0)
    rnn = ElmanRNN(4, 400)
    for layer, fan_in in ((rnn.ih, 4), (rnn.hh, 400)):
        for p in layer.parameters():
            bound = fan_in ** -0.5
            assert p.abs().max() <= bound and p.abs().max() > 0.9 * bound  # fills its range


def test_grad_clip_hook_caps_the_global_norm_and_refuses_bad_norms():
    from sparsenet.train import GradClip, StepContext

    model = RNNClassifier(2, 5, 3)
    model(torch.randn(4, 6, 2)).square().sum().mul(1e3).backward()
    GradClip(0.5).after_backward(StepContext(model))
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))
    assert norm == pytest.approx(0.5, rel=1e-4)
    for bad in (0, -1.0, True, "1"):
        with pytest.raises(SparsenetError, match="max_norm"):
            GradClip(bad)
