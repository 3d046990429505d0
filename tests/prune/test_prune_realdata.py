"""Fashion-MNIST variants of the pruning claims (LeNet-300-100, a few hundred steps on a 6000-example
subset). OBS/OBD vs magnitude and variance folding run in CI; the Han and SNIP variants need more
training and are marked slow. The full versions are the recipes in recipes/, numbers in docs/pruning.md."""
from pathlib import Path

import pytest
import torch

from sparsenet.data import load_dataset
from sparsenet.models import build_model
from sparsenet.prune import MaskHook, density_masks, han_schedule, prune
from sparsenet.masks import apply_masks, full_masks
from sparsenet.train import TorchEngine, evaluate

FASHION = Path("/usr/share/datasets/fashion-mnist")

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not FASHION.is_dir(), reason=f"{FASHION} is absent: apt-get install -y dataset-fashion-mnist"),
]


@pytest.fixture(scope="module")
def data():
    ds = load_dataset("fashion-mnist", FASHION, seed=0).flat().subset(6000, 2000)
    return ds.x_train, ds.y_train, ds.x_test, ds.y_test


def train(model, X, Y, steps, lr, hooks=(), seed=0):
    g = torch.Generator().manual_seed(seed)
    order = torch.randint(0, X.shape[0], (steps * 64,), generator=g)
    TorchEngine(model, torch.optim.Adam(model.parameters(), lr=lr), hooks=list(hooks)).train(X, Y, order, 64)
    return model


@pytest.fixture(scope="module")
def trained(data):
    X, Y, _, _ = data
    torch.manual_seed(0)
    return train(build_model("lenet300100"), X, Y, 200, 1e-3).state_dict()


def fresh(state):
    m = build_model("lenet300100")
    m.load_state_dict(state)
    return m


def test_one_shot_90_obs_beats_magnitude(data, trained):
    # Only OBS vs magnitude here: after 200 steps the net is far from a minimum, where OBD's
    # assumption fails and its order against magnitude flips; the full comparison (OBS >= OBD >=
    # magnitude on a trained net) is recipes/prune-oneshot90.toml, numbers in docs/pruning.md.
    X, Y, Xt, Yt = data
    batch = (X[:256], Y[:256])
    acc = {}
    for crit in ("magnitude", "obs"):
        m = fresh(trained)
        prune(m, crit, 0.9, batch=batch)
        acc[crit] = evaluate(m, Xt, Yt)["accuracy"]
    assert acc["obs"] > acc["magnitude"] + 0.05, acc


def test_variance_folding_moves_outputs_less(data, trained):
    X, Y, Xt, _ = data
    change = {}
    for update in (True, False):
        m = fresh(trained)
        ref = m(Xt).detach()
        prune(m, "variance", 0.9, batch=(X[:256], Y[:256]), update=update)
        change[update] = float(((m(Xt).detach() - ref) ** 2).mean())
    assert change[True] < 0.9 * change[False], change


@pytest.mark.slow
def test_han_pipeline_short(data, trained):
    X, Y, Xt, Yt = data
    m = fresh(trained)
    dense_err = 1 - evaluate(m, Xt, Yt)["accuracy"]
    names = ["layers.0.weight", "layers.1.weight", "layers.2.weight"]
    masks = full_masks(m, names)
    for level in han_schedule(dict(zip(names, (0.08, 0.09, 0.26))), 3):
        masks, _ = density_masks(m, level, masks)
        apply_masks(m, masks)
        train(m, X, Y, 150, 1e-4, [MaskHook(masks)])
    err = 1 - evaluate(m, Xt, Yt)["accuracy"]
    assert [round(float(masks[n].float().mean()), 2) for n in names] == [0.08, 0.09, 0.26]
    assert err <= dense_err + 0.02, (err, dense_err)  # full recipe: <= dense + 0.5 points


@pytest.mark.slow
def test_snip_beats_uniform_random_at_98_short(data):
    # SNIP's advantage is its per-layer densities: at SNIP's own densities random pruning did as
    # well in the full run (docs/pruning.md, Frankle et al. 2021), so only uniform random is beaten.
    X, Y, Xt, Yt = data
    acc = {}
    for crit in ("snip", "random"):
        torch.manual_seed(1)
        m = build_model("lenet300100")
        masks = prune(m, crit, 0.98, scope="global", batch=(X[:256], Y[:256]), force=True)
        train(m, X, Y, 1500, 1e-3, [MaskHook(masks)])
        acc[crit] = evaluate(m, Xt, Yt)["accuracy"]
    assert acc["snip"] >= acc["random"] + 0.02, acc
