"""Every registered model: builds from its name (and its example spec), maps a flat batch (B, in_features)
to (B, classes), batch 1 included, gets a gradient in every trainable tensor, and its state_dict round-trips into a fresh build with identical outputs."""
import io

import torch

from sparsenet.models import build_model
from sparsenet.models.builders import example_spec


def check_model(name: str) -> None:
    torch.manual_seed(0)
    net = build_model(name, spec=example_spec(name), in_features=784, num_classes=10)
    x = torch.randn(3, 784, generator=torch.Generator().manual_seed(1))
    net.train()
    net(x).square().sum().backward()  # every trainable tensor gets a gradient
    missing = [n for n, p in net.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum())]
    assert not missing, f"no gradient reaches {missing}"
    net.eval()
    out = net(x)
    assert out.shape == (3, 10) and out.dtype == torch.float32 and bool(torch.isfinite(out).all())
    assert net(x[:1]).shape == (1, 10)
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    buf.seek(0)
    torch.manual_seed(123)
    fresh = build_model(name, spec=example_spec(name), in_features=784, num_classes=10)
    fresh.eval()
    assert not torch.equal(fresh(x), out)  # a different init, so the load below is what matters
    fresh.load_state_dict(torch.load(buf, weights_only=True), strict=True)
    torch.testing.assert_close(fresh(x), out, rtol=0, atol=0)


def test_model_contract(model):
    check_model(model)
