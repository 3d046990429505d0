"""`sparsenet train`: masks.safetensors matches model.safetensors after unit removal; the masks on
the burn-in shapes are kept as masks_before_removal.safetensors."""
import torch

from sparsenet import io
from sparsenet.experiments.train.run import run_train
from sparsenet.experiments.train.config import TrainConfig
from sparsenet.masks import remove_unconnected


def test_masks_match_the_final_model_and_the_pre_removal_masks_are_kept(tmp_path):
    d = tmp_path / "run"
    cfg = TrainConfig(dataset="synthetic", spec="64-32-10", burnin_steps=50, steps=50, budget=60,
                      log_every=50, checkpoint_every=50, progress=False, run_dir=str(d))
    r = run_train(cfg)
    model = io.load_tensors(d / "model.safetensors")
    masks = io.load_tensors(d / "masks.safetensors")
    before = io.load_tensors(d / "masks_before_removal.safetensors")
    assert r["hidden_units"][0] < 32  # 60 live weights cannot feed 32 units: some were removed
    for name, m in masks.items():
        assert m.shape == model[name].shape, name
        assert bool((model[name][~m] == 0).all())
    assert before["layers.0.weight"].shape == (32, 64)
    assert int(before["layers.0.weight"].sum()) == int(masks["layers.0.weight"].sum())
    # the pre-removal masks on the burn-in model give the saved masks again
    from sparsenet.models import MLP

    net = MLP([64, 32, 10], activation=cfg.activation or "tanh")
    net.load_state_dict(io.torch_load(d / "burnin.pt")["model"])
    _, again, _ = remove_unconnected(net, {k: before[k] for k in masks})
    assert all(torch.equal(again[k], masks[k]) for k in masks)
