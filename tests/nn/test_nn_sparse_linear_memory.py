"""SparseLinear built directly sparse (Erdős–Rényi), its memory report, and input checks."""
import math
import subprocess
import sys
import textwrap

import pytest
import torch

from sparsenet.errors import SparsenetError
from sparsenet.nn import SparseLinear
from sparsenet.nn.random_pattern import erdos_renyi_csr


@pytest.mark.parametrize("density", [0.001, 0.05, 0.25, 0.6, 1.0])
def test_erdos_renyi_pattern_is_valid_and_has_the_density(density):
    g = torch.Generator().manual_seed(0)
    crow, col = erdos_renyi_csr(400, 300, density, generator=g)
    assert crow[0] == 0 and crow[-1] == col.numel() and bool((crow[1:] >= crow[:-1]).all())
    for r in range(0, 400, 37):  # strictly ascending columns: no duplicates inside a row
        c = col[crow[r]:crow[r + 1]]
        assert bool((c[1:] > c[:-1]).all())
    n = 400 * 300
    sd = (n * density * (1 - density)) ** 0.5
    assert abs(col.numel() - n * density) <= 5 * sd + 1


def test_erdos_renyi_columns_are_uniform():
    # Column hit counts over many rows are ~ Binomial(rows, density): no column is favoured.
    crow, col = erdos_renyi_csr(20000, 50, 0.1, generator=torch.Generator().manual_seed(1))
    hits = torch.bincount(col.long(), minlength=50).float()
    assert float(hits.min()) > 1700 and float(hits.max()) < 2300  # mean 2000, sd ~42


def test_erdos_renyi_is_reproducible_and_rejects_bad_density():
    a = erdos_renyi_csr(50, 60, 0.1, generator=torch.Generator().manual_seed(3))
    b = erdos_renyi_csr(50, 60, 0.1, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(SparsenetError, match=f"density {bad}"):
            erdos_renyi_csr(5, 5, bad)


def test_memory_report_counts_value_index_grad_and_optimizer_state():
    layer = SparseLinear.random(1000, 500, 0.02, generator=torch.Generator().manual_seed(0))
    nnz = layer.nnz
    plain = layer.memory_report()
    # 4 (value) + 4 (grad) + 12 (col, trow, tperm int32)
    assert plain["bytes_per_live_weight"] == 20
    assert plain["optimizer_state_bytes"] == 0
    for opt, state_bytes in ((torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9), 4),
                             (torch.optim.Adam(layer.parameters()), 8)):
        layer(torch.randn(3, 1000)).sum().backward()
        opt.step()
        rep = layer.memory_report(opt)
        assert rep["optimizer_state_bytes"] == state_bytes * nnz
        assert rep["bytes_per_live_weight"] == 20 + state_bytes
        layer.zero_grad()
    assert rep["dense_weight_bytes"] == 500 * 1000 * 4


def test_input_checks_name_expected_and_received():
    layer = SparseLinear.random(6, 4, 0.5, generator=torch.Generator().manual_seed(0))
    with pytest.raises(SparsenetError, match=r"expects input \(\.\.\., 6\), got \(2, 5\)"):
        layer(torch.randn(2, 5))
    with pytest.raises(SparsenetError, match="input dtype torch.float64 differs from its weights' torch.float32"):
        layer(torch.randn(2, 6, dtype=torch.float64))
    with pytest.raises(SparsenetError, match="input is on meta but its weights are on cpu"):
        layer(torch.randn(2, 6, device="meta"))
    with pytest.raises(SparsenetError, match="unknown kernel backend 'cuda-magic'"):
        SparseLinear.random(6, 4, 0.5, kernel="cuda-magic")


def test_leading_dimensions_are_kept():
    layer = SparseLinear.random(6, 4, 0.5, generator=torch.Generator().manual_seed(0))
    x = torch.randn(2, 3, 6)
    torch.testing.assert_close(layer(x), torch.nn.functional.linear(x, layer.to_dense(), layer.bias))


def test_float64_layer_trains_through_numba():
    layer = SparseLinear.random(8, 5, 0.5, generator=torch.Generator().manual_seed(0)).double()
    x = torch.randn(4, 8, dtype=torch.float64)
    y = layer(x)
    torch.testing.assert_close(y, torch.nn.functional.linear(x, layer.to_dense(), layer.bias))


def test_huge_layer_trains_in_little_memory():
    # 65536 x 65536 at density 0.001, batch 128: the dense weight alone would be 16 GiB (measured peak
    # RSS 803 MiB on 2026-12-01, Intel Xeon, 2 threads; docs/kernels.md, docs/benchmarks.md).
    code = textwrap.dedent("""
        import resource, torch
        from sparsenet.nn import SparseLinear
        torch.manual_seed(0)
        layer = SparseLinear.random(65536, 65536, 0.001, generator=torch.Generator().manual_seed(0))
        opt = torch.optim.SGD(layer.parameters(), lr=0.01, momentum=0.9)
        x, t = torch.randn(128, 65536), torch.randn(128, 65536)  # batch 128, as docs/kernels.md says
        for _ in range(3):
            opt.zero_grad()
            loss = (layer(x) - t).pow(2).mean()
            loss.backward()
            opt.step()
        rep = layer.memory_report(opt)
        print(layer.nnz, float(loss), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rep["bytes_per_live_weight"])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    nnz, loss, rss_kib, per_weight = out.stdout.split()
    assert abs(int(nnz) - 65536 * 65536 * 0.001) < 20000
    assert math.isfinite(float(loss)) and float(loss) > 0  # finite (neither NaN nor inf)
    assert int(rss_kib) < 2 * 1024 * 1024, f"peak RSS {int(rss_kib) / 1024:.0f} MiB"
    assert float(per_weight) == 24


def test_sparse_mlp_is_built_sparse_trains_and_loads_into_a_dense_mlp():
    from sparsenet.models import MLP
    from sparsenet.nn import sparse_mlp

    g = torch.Generator().manual_seed(0)
    net = sparse_mlp([30, 40, 20, 5], [0.5, 0.2, 1.0], "relu", dense_last=True, generator=g)
    kinds = [type(l).__name__ for l in net.layers]
    assert kinds == ["SparseLinear", "SparseLinear", "Linear"]
    assert not any(p.is_meta for p in net.parameters())
    assert abs(net.layers[1].nnz / 800 - 0.2) < 0.1
    x, y = torch.randn(16, 30), torch.randint(0, 5, (16,))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    dense = MLP([30, 40, 20, 5], "relu")
    dense.load_state_dict(net.state_dict(), strict=True)
    torch.testing.assert_close(dense(x), net(x))
    with pytest.raises(SparsenetError, match="got 2 densities for 3 layers"):
        sparse_mlp([30, 40, 20, 5], [0.5, 0.2])
