"""The CLI model specs of the compressed layers and the RNN (sparsenet/models/compressed.py): each
builds the layer it names with the sizes of its spec, trains through `sparsenet train`, and a bad
spec is a one-line error naming what to fix."""
import pytest
import torch

from sparsenet import io
from sparsenet.cli import main
from sparsenet.errors import ConfigError
from sparsenet.models import build_model
from sparsenet.nn import HashedLinear, KWinners, LowRankLinear, RNNClassifier


def test_rnn_spec_reads_the_flat_input_as_steps():
    m = build_model("rnn", spec="28-32-10", in_features=784, num_classes=10)
    assert isinstance(m, RNNClassifier) and m.seq_len == 28 and m.rnn.input_size == 28 and m.rnn.hidden_size == 32
    x = torch.randn(3, 784)
    torch.testing.assert_close(m(x), m(x.reshape(3, 28, 28)))
    assert build_model("rnn", spec="1-8-10", in_features=40).seq_len == 40  # MNIST-1D: 40 steps of 1


def test_hashed_mlp_spec_hashes_every_layer_at_the_compression():
    for arg in ("1/64", "0.015625"):
        m = build_model("hashed-mlp", spec=f"784-1000-10@{arg}", in_features=784, num_classes=10)
        assert all(isinstance(layer, HashedLinear) for layer in m.layers)
        assert [layer.buckets for layer in m.layers] == [round(784 * 1000 / 64), round(1000 * 10 / 64)]
        assert len({layer.seed for layer in m.layers}) == 2  # the layers hash differently
        assert m(torch.zeros(2, 784)).shape == (2, 10)


def test_lowrank_mlp_spec_predicts_the_first_layer_from_a_dictionary():
    m = build_model("lowrank-mlp", spec="784-300-10@196:dct", in_features=784, num_classes=10)
    first = m.layers[0]
    assert isinstance(first, LowRankLinear) and first.rank == 196 and first.dictionary == "dct"
    assert first.fraction_predicted == pytest.approx(0.75)  # V is 196 x 300 of W's 784 x 300
    assert isinstance(m.layers[1], torch.nn.Linear)
    assert build_model("lowrank-mlp", spec="784-300-10@50:gaussian").layers[0].dictionary == "gaussian"
    assert build_model("lowrank-mlp", spec="784-300-10@50").layers[0].dictionary == "dct"  # the default


def test_kwta_mlp_spec_puts_k_winners_after_every_hidden_layer():
    m = build_model("kwta-mlp", spec="20-50-40-3@0.1")
    assert [(k.n, k.k) for k in m.kwinners] == [(50, 5), (40, 4)]
    m.train()
    h = m.kwinners[0](m.layers[0](torch.randn(6, 20)))
    assert ((h != 0).sum(1) <= 5).all()
    assert m(torch.randn(6, 20)).shape == (6, 3)
    assert all(isinstance(k, KWinners) for k in m.kwinners)


@pytest.mark.parametrize("name, spec, kw, needle", [
    ("rnn", "784-300-100-10", {}, "needs a spec F-H-C"),
    ("rnn", "27-64-10", {"in_features": 784}, "do not split into steps of 27"),
    ("rnn", "28-64-10", {"activation": "relu"}, "tanh Elman RNN"),
    ("hashed-mlp", "784-1000-10", {}, "sizes@compression"),
    ("hashed-mlp", "784-1000-10@2", {}, "compression '2' must be a fraction in (0, 1]"),
    ("hashed-mlp", "784-1000-10@0", {}, "compression '0'"),
    ("hashed-mlp", "784-1000-10@1/64", {"in_features": 40}, "make the spec start with 40"),
    ("lowrank-mlp", "784-300-10@0:dct", {}, "rank '0' must be a positive integer"),
    ("lowrank-mlp", "784-300-10@900:dct", {}, "rank 900"),
    ("lowrank-mlp", "784-300-10@50:pca", {}, "dictionary 'pca' is not one the CLI can build; valid: se, gaussian, dct"),
    ("kwta-mlp", "784-10@0.1", {}, "no hidden layer"),
    ("kwta-mlp", "784-100-10@1.5", {}, "fraction on '1.5'"),
    ("kwta-mlp", "784-100-10@0.1", {"activation": "relu"}, "drop --activation relu"),
])
def test_bad_specs_are_config_errors(name, spec, kw, needle):
    with pytest.raises(ConfigError) as e:
        build_model(name, spec=spec, **kw)
    assert needle in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("model, spec", [("rnn", "8-16-10"), ("hashed-mlp", "64-32-10@1/8"),
                                         ("lowrank-mlp", "64-32-10@8:gaussian"), ("kwta-mlp", "64-40-10@0.25")])
def test_each_model_trains_through_sparsenet_train_and_saves(model, spec, tmp_path):
    out = tmp_path / "run"
    rc = main(["train", "--dataset", "synthetic", "--model", model, "--spec", spec, "--batch-size", "16",
               "--optimizer", "adam", "--lr", "0.01", "--prune", "none", "--burnin-steps", "0", "--steps", "60", "--n-test", "200",
               "--threads", "1", "--no-progress", "--run-dir", str(out)])
    assert rc in (0, None)
    res = io.read_json(out / "results.json")
    assert res["test_accuracy"] > 0.3  # synthetic prototypes: well above chance (10 classes)
    state = io.load_tensors(out / "model.safetensors")
    fresh = build_model(model, spec=spec, in_features=64, num_classes=10)
    fresh.load_state_dict(state)  # the saved model loads into a fresh build of the same spec


def test_cli_bad_spec_is_one_line_exit_2(capsys, tmp_path):
    rc = main(["train", "--dataset", "synthetic", "--model", "hashed-mlp", "--spec", "64-32-10@3",
               "--run-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "compression '3'" in err and "Traceback" not in err


def test_sparsenet_train_decays_the_boost_strength_once_per_epoch(tmp_path):
    out = tmp_path / "run"
    # synthetic: 2,000 training samples, batch 16 -> 125 steps per epoch; 250 steps = 2 epochs
    assert main(["train", "--dataset", "synthetic", "--model", "kwta-mlp", "--spec", "64-40-10@0.25", "--batch-size",
                 "16", "--optimizer", "adam", "--lr", "0.01", "--prune", "none", "--burnin-steps", "0", "--steps", "250", "--n-test",
                 "100", "--threads", "1", "--no-progress", "--run-dir", str(out)]) in (0, None)
    state = io.load_tensors(out / "model.safetensors")
    assert float(state["kwinners.0.boost_strength"]) == pytest.approx(0.9 ** 2)


def test_boost_decay_hook_counts_epochs_and_refuses_bad_periods():
    from sparsenet.errors import SparsenetError
    from sparsenet.train import BoostDecay, StepContext

    m = build_model("kwta-mlp", spec="8-6-2@0.5")
    hook, c = BoostDecay(3), StepContext(m)
    for step in range(1, 10):
        c.step = step
        hook.after_step(c)
    assert hook.epochs_done == 3 and float(m.kwinners[0].boost_strength) == pytest.approx(0.9 ** 3)
    assert BoostDecay.wants(m) and not BoostDecay.wants(torch.nn.Linear(2, 2))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(SparsenetError, match="steps_per_epoch"):
            BoostDecay(bad)
