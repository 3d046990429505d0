"""Compact checkpoints: values + CSR indices + structure in safetensors, no pickle, no dense matrix."""
import os

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import sparsenet
from sparsenet import MLP, SparseLinear, sparse_mlp, sparsify
from sparsenet.errors import SparsenetError
from sparsenet.nn import export_dense


def _big():
    return sparse_mlp([784, 4096, 4096, 10], density=0.01, activation="relu",
                      generator=torch.Generator().manual_seed(0))


def test_one_percent_784_4096_4096_10_is_under_3_mb_and_rebuilds_identically(tmp_path):
    net = _big()
    path = sparsenet.save(net, tmp_path / "net.safetensors")
    nnz = sum(l.nnz for l in net.layers)
    size = os.path.getsize(path)
    assert size < 3_000_000
    assert size < 9 * nnz + 200_000  # 4 B value + 4 B column per live weight, + row pointers and biases
    back = sparsenet.load(path)
    assert type(back) is MLP and back.sizes == net.sizes and back.activation == "relu"
    for a, b in zip(net.layers, back.layers):
        assert isinstance(b, SparseLinear) and b.kernel == a.kernel
        for f in ("crow", "col", "tcrow", "trow", "tperm"):
            assert torch.equal(getattr(a, f), getattr(b, f)), f
        assert torch.equal(a.values, b.values) and torch.equal(a.bias, b.bias)
    x = torch.rand(16, 784, generator=torch.Generator().manual_seed(1))
    assert torch.equal(back(x), net(x))
    # the dense export still loads strictly into an unpruned model
    plain = MLP([784, 4096, 4096, 10], activation="relu")
    plain.load_state_dict(export_dense(back).state_dict(), strict=True)
    torch.testing.assert_close(plain(x), net(x), rtol=1e-5, atol=1e-5)


def test_saving_never_builds_the_dense_matrix(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("dense matrix built while saving")

    monkeypatch.setattr(SparseLinear, "to_dense", boom)
    monkeypatch.setattr(SparseLinear, "_save_to_state_dict", boom)
    huge = nn.Sequential(SparseLinear.random(65536, 65536, 1e-6, generator=torch.Generator().manual_seed(0)))
    path = sparsenet.save(huge, tmp_path / "huge.safetensors")
    assert os.path.getsize(path) < 2_000_000  # a dense 65536² float32 weight would be 16 GiB
    back = sparsenet.load(path)
    assert torch.equal(back[0].col, huge[0].col) and torch.equal(back[0].values, huge[0].values)


def test_sparsify_loads_a_checkpoint_into_the_users_architecture(tmp_path):
    torch.manual_seed(0)
    net = sparse_mlp([20, 16, 5], density=0.3, dense_last=True, generator=torch.Generator().manual_seed(2))
    path = sparsenet.save(net, tmp_path / "c.safetensors")
    mine = MLP([20, 16, 5], activation="relu")  # dense, as a user would build it
    out = sparsify(mine, path)
    assert out is mine and isinstance(mine.layers[0], SparseLinear) and isinstance(mine.layers[1], nn.Linear)
    x = torch.rand(3, 20)
    assert torch.equal(mine(x), net(x))
    with pytest.raises(SparsenetError, match=r"layer 'layers.0' is a 16x20 SparseLinear in the checkpoint "
                                             r"but the model has a Linear 8x20 there"):
        sparsify(MLP([20, 8, 5]), path)
    with pytest.raises(SparsenetError, match="has a sparse layer 'layers.0' that the model lacks"):
        sparsify(nn.Sequential(nn.Linear(20, 5)), path)


def test_any_allowlisted_stack_round_trips_with_flags_dtype_and_mode(tmp_path):
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.LeakyReLU(0.2),
                        nn.MaxPool2d(2), nn.Flatten(), SparseLinear.random(3 * 4 * 4, 6, 0.5), nn.Tanh(),
                        nn.Linear(6, 2)).double()
    seq(torch.rand(4, 1, 8, 8, dtype=torch.float64))  # moves the BatchNorm running stats
    seq.eval()
    seq[0].weight.requires_grad_(False)
    back = sparsenet.load(sparsenet.save(seq, tmp_path / "s.safetensors"))
    assert repr(back) == repr(seq)
    assert not back.training and not back[0].weight.requires_grad and back[7].weight.requires_grad
    assert back[5].values.dtype == torch.float64
    assert torch.equal(back[1].running_mean, seq[1].running_mean)
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    assert torch.equal(back(x), seq(x))


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = SparseLinear.random(10, 4, 0.5, generator=torch.Generator().manual_seed(3))
        self.scale = nn.Parameter(torch.tensor(2.0))

    def forward(self, x):
        return self.body(x) * self.scale


def test_a_custom_class_saves_compactly_and_loads_into_an_instance(tmp_path):
    src = Custom()
    path = sparsenet.save(src, tmp_path / "custom.safetensors")
    with pytest.raises(SparsenetError, match=r"holds no module structure \(the model is a .*Custom, not one of "
                                             r"the types a checkpoint can rebuild\); build the model"):
        sparsenet.load(path)
    dst = Custom()
    with torch.no_grad():
        dst.scale.fill_(0.0)
    sparsify(dst, path)
    x = torch.rand(2, 10)
    assert torch.equal(dst(x), src(x))


def _one_line(info):
    msg = str(info.value)
    assert "\n" not in msg and "weights_only" not in msg
    return msg


def test_corrupt_and_foreign_files_give_one_line_errors(tmp_path):
    good = sparsenet.save(sparse_mlp([6, 4, 2], 0.5), tmp_path / "good.safetensors")
    data = good.read_bytes()
    cases = {
        "random.safetensors": (os.urandom(4096), "is not a readable safetensors file"),
        "truncated.safetensors": (data[: len(data) // 2], "is not a readable safetensors file"),
        "empty.safetensors": (b"", "is not a readable safetensors file"),
    }
    for name, (blob, msg) in cases.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(SparsenetError) as info:
            sparsenet.load(tmp_path / name)
        assert msg in _one_line(info) and name in str(info.value)
    save_file({"layers.0.weight": torch.zeros(4, 6)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(SparsenetError) as info:
        sparsenet.load(tmp_path / "plain.safetensors")
    assert "not a sparsenet checkpoint" in _one_line(info)
    with pytest.raises(SparsenetError, match="no checkpoint file at"):
        sparsenet.load(tmp_path / "missing.safetensors")
    with pytest.raises(SparsenetError, match=r"\(it is a directory\)"):
        sparsenet.load(tmp_path)
    # a tampered structure naming a type outside the allowlist is refused, never imported
    from safetensors import safe_open
    from safetensors.torch import save as to_bytes

    with safe_open(str(good), framework="pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    meta["structure"] = meta["structure"].replace("sparsenet.MLP", "os.system")
    (tmp_path / "evil.safetensors").write_bytes(to_bytes(tensors, metadata=meta))
    with pytest.raises(SparsenetError) as info:
        sparsenet.load(tmp_path / "evil.safetensors")
    assert "unknown module type 'os.system'" in _one_line(info)


def test_a_pruned_convnet_with_sparse_fully_connected_layers_round_trips(tmp_path):
    from sparsenet.models import build_model
    from sparsenet.prune import prune

    torch.manual_seed(0)
    net = build_model("convnet", spec="4-8:16")
    masks = prune(net, "magnitude", 0.9)
    sparsify(net, {k: v for k, v in masks.items() if k.startswith("fcs")})
    back = sparsenet.load(sparsenet.save(net, tmp_path / "cn.safetensors"))
    assert type(back).__name__ == "ConvNet" and isinstance(back.fcs[0], SparseLinear)
    assert back.fcs[0].nnz == int(masks["fcs.0.weight"].sum())
    x = torch.rand(2, 784)
    assert torch.equal(back(x), net(x))
