"""Finished lottery artifacts are checked when read back: a bad file is one line naming it and the fix."""
import pytest
import torch
from safetensors.torch import save_file

from sparsenet import io
from sparsenet.errors import SparsenetError
from sparsenet.experiments.lottery.artifacts import (read_artifact, read_init, read_result, read_rewind,
                                                     read_supermask)

THETA0 = {"layers.0.weight": torch.zeros(3, 4), "layers.0.bias": torch.zeros(3)}
NAMES = ["layers.0.weight"]
RESULT = {"seed": 0, "level": 1, "kind": "ticket", "live": 6, "total": 12, "density": 0.5, "test_accuracy": 0.8}


def artifact(tmp_path, masks=None, weights=None, result=None):
    d = tmp_path / "seed0" / "level01" / "ticket"
    io.save_tensors(d / "masks.safetensors", masks or {"layers.0.weight": torch.rand(3, 4) < 0.5})
    io.save_tensors(d / "weights.safetensors", weights or THETA0)
    if isinstance(result, str):
        (d / "result.json").write_text(result)
    else:
        io.write_json(d / "result.json", result or RESULT)
    return d


def test_a_good_artifact_reads_back(tmp_path):
    d = artifact(tmp_path)
    masks, weights, result = read_artifact(d, THETA0, NAMES)
    assert list(masks) == NAMES and masks["layers.0.weight"].dtype == torch.bool
    assert set(weights) == set(THETA0) and result == RESULT


@pytest.mark.parametrize("break_it, why", [
    (lambda d: (d / "masks.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{"), "truncated"),
    (lambda d: save_file({"layers.0.weight": torch.ones(4, 3, dtype=torch.bool)}, str(d / "masks.safetensors")),
     "layers.0.weight has shape (4, 3), the model (3, 4)"),
    (lambda d: save_file({"layers.0.weight": torch.ones(3, 4)}, str(d / "masks.safetensors")), "not a bool mask"),
    (lambda d: save_file({"other": torch.ones(3, 4, dtype=torch.bool)}, str(d / "masks.safetensors")),
     "no layers.0.weight"),
    (lambda d: (d / "masks.safetensors").unlink(), "is missing while the artifact is marked finished"),
    (lambda d: save_file({"layers.0.weight": torch.ones(3, 4)}, str(d / "weights.safetensors")), "no layers.0.bias"),
    (lambda d: (d / "result.json").write_text('{"seed": 0,'), "not valid JSON"),
    (lambda d: (d / "result.json").write_bytes(b"\xff\xfe"), "not UTF-8"),
    (lambda d: (d / "result.json").write_text("[]"), "a JSON list, not a result"),
    (lambda d: (d / "result.json").write_text('{"seed": 0}'), "no 'level'"),
])
def test_a_bad_file_names_itself_and_says_delete_the_artifact(tmp_path, break_it, why):
    d = artifact(tmp_path)
    break_it(d)
    with pytest.raises(SparsenetError) as e:
        read_artifact(d, THETA0, NAMES)
    msg = str(e.value)
    assert why in msg and "\n" not in msg
    assert msg.endswith(f"delete {d} to recompute that level, then rerun the same command")


def test_control_results_are_checked_too(tmp_path):
    d = artifact(tmp_path, result="{")
    with pytest.raises(SparsenetError, match=r"result\.json \(not valid JSON"):
        read_result(d)


def test_seed_files_say_their_own_fix(tmp_path):
    (tmp_path / "init.safetensors").write_bytes(b"junk")
    with pytest.raises(SparsenetError, match=r"init\.safetensors .*delete it to recompute it from the seed"):
        read_init(tmp_path / "init.safetensors", THETA0)
    io.save_tensors(tmp_path / "rewind.safetensors", {"layers.0.weight": torch.zeros(3, 4)})
    with pytest.raises(SparsenetError, match=r"no layers\.0\.bias\): delete it and .*level00 to retrain level 0"):
        read_rewind(tmp_path / "rewind.safetensors", THETA0)
    (tmp_path / "supermask.json").write_text('{"a": 1}')
    with pytest.raises(SparsenetError, match=r"not a list of rows\): delete it to recompute the supermask"):
        read_supermask(tmp_path / "supermask.json")
