"""Unit criteria on a hidden layer see the whole downstream path (regression: the hidden layer's
∂L/∂z was cut at the next layer's output, so every hidden unit of a deeper net scored 0)."""
import torch
import torch.nn.functional as F

from sparsenet.criteria import score
from sparsenet.models import MLP


def test_taylor_neuron_and_gating_of_a_hidden_layer_match_full_autograd():
    torch.manual_seed(0)
    net = MLP([4, 3, 2], activation="tanh")
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(16, 4, generator=g), torch.randint(0, 2, (16,), generator=g)
    # reference: z = hidden pre-activation; per-example losses summed so ∂(Σ L_n)/∂z_n = ∂L_n/∂z_n
    z = net.layers[0](x).detach().requires_grad_(True)
    loss = F.cross_entropy(net.layers[1](torch.tanh(z)), y, reduction="sum")
    (dz,) = torch.autograd.grad(loss, [z])
    prod = (z * dz).detach()
    got_t = score(net, "taylor-neuron", batch=(x, y))["layers.0.weight"]
    got_g = score(net, "gating", batch=(x, y))["layers.0.weight"]
    torch.testing.assert_close(got_t, prod.abs().mean(0))
    torch.testing.assert_close(got_g, prod.mean(0).abs())
    assert bool((got_t > 0).all())
    assert all(p.grad is None for p in net.parameters())
