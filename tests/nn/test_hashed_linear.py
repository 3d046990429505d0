"""HashedLinear against its dense references (torch-built V and to_linear()), its hash, memory and errors."""
import subprocess
import sys
import textwrap

import pytest
import torch

from sparsenet.errors import SparsenetError
from sparsenet.kernels import hashed as hk
from sparsenet.nn import HashedLinear

MASK = (1 << 64) - 1


def _splitmix(seed, n):
    # written out here from the documented formula, independently of the library's copy
    z = (seed + (n + 1) * 0x9E3779B97F4A7C15) % (1 << 64)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _pair(in_f, out_f, K, seed=0, dtype=torch.float32, **kw):
    torch.manual_seed(seed)
    a = HashedLinear(in_f, out_f, buckets=K, seed=seed, **kw).to(dtype)
    b = HashedLinear(in_f, out_f, buckets=K, seed=seed, kernel="reference", **kw).to(dtype)
    b.load_state_dict(a.state_dict())
    return a, b


def test_hash_matches_published_splitmix64_outputs_and_hand_values():
    # SplitMix64 seeded with 0 starts 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F
    assert [_splitmix(0, n) for n in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    assert [hk.splitmix64(0, n) for n in range(3)] == [_splitmix(0, n) for n in range(3)]
    # K = 11: z = 0xE220A8397B1DCDAF has its top bit set (xi = -1); bits 31..62 = 0xC4415072,
    # 0xC4415072 * 11 >> 32 = 8.  z = 0x6E78...: top bit clear (+1), bits 31..62 = 0xDCF13CD5 -> 9.
    assert hk.bucket_and_sign(0xE220A8397B1DCDAF, 11) == (8, -1)
    assert hk.bucket_and_sign(0x6E789E6AA1B965F4, 11) == (9, 1)
    # the layer uses exactly these: a 1 x 11 layer (positions 0, 1 = (0, 0), (0, 1)), seed 0, w[k] = k
    layer = HashedLinear(11, 1, buckets=11, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.arange(11.0))
    assert layer.to_linear().weight[0, :2].tolist() == [-8.0, 9.0]


def test_hash_is_the_same_in_a_fresh_process():
    code = "from sparsenet.nn import HashedLinear; import torch; torch.manual_seed(0); " \
           "l = HashedLinear(9, 4, buckets=5, seed=77); print(l.to_linear().weight.flatten().tolist())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    torch.manual_seed(0)
    here = HashedLinear(9, 4, buckets=5, seed=77).to_linear().weight.flatten().tolist()
    assert eval(out.stdout) == here


def test_numba_torch_and_python_hash_agree():
    seed, n_in, n_out, K = 123456789, 13, 6, 17
    w = torch.arange(1.0, K + 1)
    V = hk.virtual_rows(w, seed, n_in, range(n_out))
    for i in range(n_out):
        for j in range(n_in):
            h, xi = hk.bucket_and_sign(_splitmix(seed, i * n_in + j), K)
            assert V[i, j] == xi * (h + 1)
    layer = HashedLinear(n_in, n_out, buckets=K, seed=seed, bias=False)
    with torch.no_grad():
        layer.weight.copy_(w)
    torch.testing.assert_close(layer(torch.eye(n_in)), V.t(), rtol=0, atol=0)  # numba forward, exact


@pytest.mark.parametrize("batch", [1, 4, 33])
@pytest.mark.parametrize("hashed_bias", [False, True])
def test_forward_backward_match_reference_and_to_linear(batch, hashed_bias):
    a, b = _pair(5, 7, 11, seed=3, hashed_bias=hashed_bias)
    lin = a.to_linear()
    x = torch.randn(batch, 5)
    xs = [x.clone().requires_grad_() for _ in range(3)]
    ys = [m(xi) for m, xi in zip((a, b, lin), xs)]
    gy = torch.randn(batch, 7)
    for y in ys:
        torch.testing.assert_close(y, ys[2])
        y.backward(gy)
    for xi in xs[:2]:
        torch.testing.assert_close(xi.grad, xs[2].grad)
    torch.testing.assert_close(a.weight.grad, b.weight.grad)
    torch.testing.assert_close(a.bias.grad, b.bias.grad)
    # the bucket gradient is the dense gradient summed over each bucket with the signs
    n = torch.arange(35)
    h, xi = hk.hash_positions(n, 3, 11)
    want = torch.zeros(11).index_add_(0, h, xi.float() * lin.weight.grad.flatten())
    torch.testing.assert_close(a.weight.grad, want)


def test_gradcheck_float64_numba_path():
    layer = HashedLinear(5, 7, buckets=11, seed=1, hashed_bias=True).double()
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    w = layer.weight.detach().clone().requires_grad_()

    def f(x, w, b):
        return torch.func.functional_call(layer, {"weight": w, "bias": b}, (x,))

    b = layer.bias.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(f, (x, w, b))


def test_empty_batch_and_leading_dims():
    a, b = _pair(6, 4, 5)
    x = torch.randn(0, 6, requires_grad=True)
    y = a(x)
    assert y.shape == (0, 4)
    y.sum().backward()
    assert x.grad.shape == (0, 6) and torch.equal(a.weight.grad, torch.zeros(5))
    x3 = torch.randn(2, 3, 6)
    torch.testing.assert_close(a(x3), b(x3))


def test_one_bucket_is_a_signed_constant_matrix():
    layer = HashedLinear(4, 3, buckets=1, bias=False)
    V = layer.to_linear().weight
    assert torch.equal(V.abs(), layer.weight.detach().abs().expand(3, 4))
    x = torch.randn(2, 4)
    torch.testing.assert_close(layer(x), x @ V.t())


def test_full_buckets_is_a_signed_dense_layer():
    layer = HashedLinear(6, 5, buckets=30, seed=4)
    V = layer.to_linear().weight
    # each real weight appears with |V| in at least one place and the layer matches its dense form
    assert set(V.abs().flatten().tolist()) <= set(layer.weight.detach().abs().tolist())
    x = torch.randn(3, 6)
    torch.testing.assert_close(layer(x), x @ V.t() + layer.bias)
    assert HashedLinear(6, 5, compression=1.0).buckets == 30


def test_buckets_are_used_uniformly():
    K = 64
    h, xi = hk.hash_positions(torch.arange(256 * 256), 0, K)
    counts = torch.bincount(h, minlength=K).double()
    expected = 256 * 256 / K
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 63 + 6 * (2 * 63) ** 0.5  # chi-square, 63 dof: mean 63, sd ~11.2; bound at ~6 sd
    assert abs(float(xi.double().mean())) < 5 / 256  # signs balanced (sd of the mean 1/256)


def test_state_dict_round_trip_and_mismatches():
    a = HashedLinear(8, 5, compression=0.25, seed=9, hashed_bias=True)
    sd = a.state_dict()
    assert set(sd) == {"weight", "bias", "hash_meta"} and sd["weight"].shape == (10,)
    b = HashedLinear(8, 5, compression=0.25, seed=9, hashed_bias=True)
    b.load_state_dict(sd)
    x = torch.randn(3, 8)
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)
    with pytest.raises(SparsenetError, match=r"shape \(10,\) but this HashedLinear holds K=12 buckets"):
        HashedLinear(8, 5, buckets=12, seed=9, hashed_bias=True).load_state_dict(sd)
    with pytest.raises(SparsenetError, match="seed 9 vs 1"):
        HashedLinear(8, 5, compression=0.25, seed=1, hashed_bias=True).load_state_dict(sd)


def test_bad_inputs_are_one_line_errors():
    cases = [
        (dict(compression=0.0), "compression=0.0 must be in"),
        (dict(compression=1.5), "compression=1.5 must be in"),
        (dict(compression=-0.1), "compression=-0.1 must be in"),
        (dict(buckets=0), r"buckets=0 must be an integer in \[1, 20\]"),
        (dict(buckets=21), r"buckets=21 must be an integer in \[1, 20\]"),
        (dict(buckets=3, compression=0.5), "exactly one of compression"),
        (dict(), "exactly one of compression"),
        (dict(buckets=3, kernel="gpu"), "unknown HashedLinear kernel 'gpu'; valid: auto, numba, reference"),
        (dict(buckets=3, seed=-1), "seed=-1"),
        (dict(buckets=3, bias=False, hashed_bias=True), "hashed_bias=True needs bias=True"),
    ]
    for kw, msg in cases:
        with pytest.raises(SparsenetError, match=msg) as e:
            HashedLinear(5, 4, **kw)
        assert "\n" not in str(e.value)
    layer = HashedLinear(5, 4, buckets=3)
    with pytest.raises(SparsenetError, match=r"expects input \(\.\.\., 5\), got \(2, 6\)"):
        layer(torch.randn(2, 6))
    with pytest.raises(SparsenetError, match="input dtype torch.float64 differs"):
        layer(torch.randn(2, 5, dtype=torch.float64))


def test_training_reduces_loss():
    torch.manual_seed(0)
    x = torch.randn(64, 10)
    t = x @ torch.randn(10, 3)
    layer = HashedLinear(10, 3, compression=0.5, seed=2)
    opt = torch.optim.SGD(layer.parameters(), lr=0.05)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = (layer(x) - t).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_repr_and_memory_report():
    layer = HashedLinear(64, 32, compression=1 / 16, seed=5)
    assert "buckets=128, compression=0.0625" in repr(layer)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    layer(torch.randn(2, 64)).sum().backward()
    opt.step()
    rep = layer.memory_report(opt)
    assert rep["index_bytes"] == 0 and rep["weight_bytes"] == 128 * 4 and rep["bias_bytes"] == 32 * 4
    assert rep["optimizer_state_bytes"] == (128 + 32) * 4
    assert rep["total_bytes"] == 3 * (128 + 32) * 4 and rep["dense_weight_bytes"] == 64 * 32 * 4


_MEMORY_STEP = textwrap.dedent("""
    import re, sys, torch
    from sparsenet.nn import HashedLinear
    kind = sys.argv[1]
    def make():
        return HashedLinear(4096, 4096, compression=1 / 64, seed=1) if kind == "hashed" else torch.nn.Linear(4096, 4096)
    def step(layer, opt, x, t):
        opt.zero_grad()
        (layer(x) - t).pow(2).mean().backward()
        opt.step()
    small = HashedLinear(64, 64, compression=1 / 64) if kind == "hashed" else torch.nn.Linear(64, 64)
    step(small, torch.optim.SGD(small.parameters(), lr=0.01, momentum=0.9), torch.randn(8, 64), torch.randn(8, 64))
    x, t = torch.randn(8, 4096), torch.randn(8, 4096)
    def status(key):
        return int(re.search(key + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1))
    open("/proc/self/clear_refs", "w").write("5")  # resets the peak RSS (VmHWM) to the current RSS
    rss0 = status("VmRSS")
    layer = make()
    opt = torch.optim.SGD(layer.parameters(), lr=0.01, momentum=0.9)
    for _ in range(2):
        step(layer, opt, x, t)
    print(status("VmHWM") - rss0)
""")


def test_memory_at_1_64_is_below_1_32_of_dense_during_training():
    """Peak RSS growth (Linux VmHWM after resetting it through /proc/self/clear_refs) while building a
    4096 x 4096 layer and taking two SGD-momentum steps at batch 8, each kind in a fresh process whose
    kernels and input were made before the reset. It counts everything the step allocates: weights,
    gradients, momentum, activations, kernel buffers. Dense holds 3 x 64 MiB; HashedLinear at 1/64
    holds 3 x 1 MiB plus one K-sized buffer per extra thread and batch-8 activations. glibc's mmap
    threshold is fixed at 128 KiB (MALLOC_MMAP_THRESHOLD_) in both processes so that freed tensors
    leave RSS and the peak counts live bytes, not what the allocator keeps for reuse."""
    import os

    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    subprocess.run([sys.executable, "-c", _MEMORY_STEP, "hashed"], check=True, timeout=120,
                   capture_output=True, env=env)  # first run fills numba's on-disk cache (compiling uses memory)
    kib = {}
    for kind in ("hashed", "dense"):
        out = subprocess.run([sys.executable, "-c", _MEMORY_STEP, kind], capture_output=True, text=True,
                             timeout=120, check=True, env=env)
        kib[kind] = int(out.stdout.split()[-1])
    assert kib["dense"] > 3 * 64 * 1024  # the measurement sees weight + grad + momentum
    assert kib["hashed"] < kib["dense"] / 32, kib
