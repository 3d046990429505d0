"""prune --init-from: dense.pt, plain state_dict and model.safetensors load; other models are refused."""
import pytest
import torch

from sparsenet import io
from sparsenet.errors import ConfigError
from sparsenet.experiments.prune.init_from import load_init
from sparsenet.models import build_model
from sparsenet.nn import sparsify


def mlp(spec="64-16-10", seed=0):
    torch.manual_seed(seed)
    return build_model("mlp", spec=spec, in_features=64, num_classes=10)


def same(a, b):
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


@pytest.mark.parametrize("form", ["dense.pt", "plain.pt", "model.safetensors", "state.bin"])
def test_every_accepted_form_loads_the_weights(tmp_path, form):
    src = mlp(seed=1)
    path = tmp_path / form
    if form == "dense.pt":
        torch.save({"model": src.state_dict(), "eval": {"accuracy": 0.5}}, path)
    elif form == "plain.pt":
        torch.save(src.state_dict(), path)
    else:  # safetensors, recognised by its suffix or by its header
        io.save_tensors(path, src.state_dict())
    dst = mlp(seed=2)
    assert not same(src, dst)
    load_init(dst, path, "--model mlp")
    assert same(src, dst)


def test_a_sparse_train_models_safetensors_loads_as_its_dense_weights(tmp_path):
    src = mlp(seed=1)
    masks = {"layers.0.weight": torch.rand(16, 64) < 0.3}
    sparse = sparsify(src, masks)  # SparseLinear saves `weight` densely
    io.save_tensors(tmp_path / "model.safetensors", sparse.state_dict())
    dst = mlp(seed=2)
    load_init(dst, tmp_path / "model.safetensors", "--model mlp")
    assert torch.equal(dst.layers[0].weight, sparse.layers[0].to_dense())


def test_wrong_architecture_names_the_parameter_both_shapes_and_the_spec_that_fits(tmp_path):
    torch.save(mlp("64-32-8-10").state_dict(), tmp_path / "wide.pt")
    with pytest.raises(ConfigError) as e:
        load_init(mlp(), tmp_path / "wide.pt", "--model mlp --spec 64-16-10")
    assert str(e.value) == (f"--init-from {tmp_path / 'wide.pt'}: layers.0.weight has shape (32, 64) in the file "
                            "but (16, 64) in --model mlp --spec 64-16-10; pass the --model/--spec the file was "
                            "trained with (the file's layers fit --model mlp --spec 64-32-8-10)")


def test_missing_and_extra_parameters_are_named(tmp_path):
    sd = mlp().state_dict()
    torch.save({k: v for k, v in sd.items() if k != "layers.1.bias"}, tmp_path / "short.pt")
    with pytest.raises(ConfigError, match=r"has no layers\.1\.bias \(shape \(10,\) in --model mlp\)"):
        load_init(mlp(), tmp_path / "short.pt", "--model mlp")
    torch.save({**sd, "layers.9.weight": torch.zeros(1)}, tmp_path / "long.pt")
    with pytest.raises(ConfigError, match=r"holds layers\.9\.weight, which --model mlp has not"):
        load_init(mlp(), tmp_path / "long.pt", "--model mlp")


@pytest.mark.parametrize("content, needle", [(b"\x00" * 64, "cannot be read"), (b"", "cannot be read")])
def test_unreadable_files_are_one_line_and_never_advise_unsafe_loading(tmp_path, content, needle):
    (tmp_path / "x.pt").write_bytes(content)
    with pytest.raises(ConfigError) as e:
        load_init(mlp(), tmp_path / "x.pt", "--model mlp")
    assert needle in str(e.value) and "weights_only" not in str(e.value) and "\n" not in str(e.value)


def test_pickled_objects_are_refused_not_loaded(tmp_path):
    torch.save({"model": mlp().state_dict(), "opt": torch.optim.SGD}, tmp_path / "code.pt")
    with pytest.raises(ConfigError, match=r"never loaded"):
        load_init(mlp(), tmp_path / "code.pt", "--model mlp")
