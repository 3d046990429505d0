"""Reading back the finished artifacts of `sparsenet lottery`, each checked before it is trusted.

An artifact directory (``seed<S>/level<LL>/<kind>/``) is finished when its ``result.json`` exists
(written last). A file in it that is truncated, not of its format, or of other layers than the
run's model (a ``masks.safetensors`` missing a layer, a result without its accuracy) is refused
in one line naming the file and the fix: delete the artifact directory and rerun the same
command, which recomputes that level (and nothing else: levels are pure functions of the config
and seed). The seed's other files say their own fix (``init.safetensors`` is recomputed from the
seed, ``rewind.safetensors`` needs level 0 again, ``supermask.json`` is recomputed alone).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import torch

from ... import io
from ...errors import SparsenetError


class CorruptArtifactError(SparsenetError):
    """A lottery artifact file is truncated, corrupt or not of this run's model."""


RESULT_KEYS = ("seed", "level", "kind", "live", "total", "density", "test_accuracy")


def _redo(d: Path) -> str:
    return f"delete {d} to recompute that level, then rerun the same command"


def read_json_file(path: Path, fix: str) -> Any:
    """JSON of `path`; a truncated or non-JSON file is a `CorruptArtifactError` saying `fix`."""
    try:
        return io.read_json(path)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        why = f"not valid JSON: {e.msg if isinstance(e, json.JSONDecodeError) else 'not UTF-8 text'}"
    except IsADirectoryError:
        why = "a directory, not a file"
    raise CorruptArtifactError(f"corrupt lottery artifact {path} ({why}): {fix}")


def read_tensor_file(path: Path, fix: str) -> dict[str, torch.Tensor]:
    try:
        return io.load_tensors(path, fix=fix)
    except io.CorruptFileError:
        raise CorruptArtifactError(f"corrupt lottery artifact {path} (truncated or not a safetensors file): "
                                   f"{fix}") from None
    except FileNotFoundError:
        raise CorruptArtifactError(f"lottery artifact {path} is missing while the artifact is marked finished: "
                                   f"{fix}") from None


def check_state(path: Path, tensors: Mapping[str, torch.Tensor], like: Mapping[str, torch.Tensor],
                fix: str, *, masks: bool = False) -> None:
    """`tensors` has every key of `like` with its shape (and bool dtype for masks)."""
    for name, ref in like.items():
        t = tensors.get(name)
        if t is None:
            why = f"no {name}"
        elif tuple(t.shape) != tuple(ref.shape):
            why = f"{name} has shape {tuple(t.shape)}, the model {tuple(ref.shape)}"
        elif masks and t.dtype != torch.bool:
            why = f"{name} is {t.dtype}, not a bool mask"
        else:
            continue
        raise CorruptArtifactError(f"corrupt lottery artifact {path} ({why}): {fix}")


def read_result(d: Path) -> dict:
    """The ``result.json`` of a finished artifact directory `d`, checked for its keys."""
    path = d / "result.json"
    result = read_json_file(path, _redo(d))
    if not isinstance(result, dict):
        raise CorruptArtifactError(f"corrupt lottery artifact {path} (a JSON {type(result).__name__}, "
                                   f"not a result): {_redo(d)}")
    missing = [k for k in RESULT_KEYS if k not in result]
    if missing:
        raise CorruptArtifactError(f"corrupt lottery artifact {path} (no {missing[0]!r}): {_redo(d)}")
    return result


def read_extra_result(d: Path) -> dict:
    """The ``result.json`` of a finished extras artifact (early-bird, edge-popup, approximation)."""
    result = read_json_file(d / "result.json", _redo(d).replace("that level", "that artifact"))
    if not isinstance(result, dict):
        raise CorruptArtifactError(f"corrupt lottery artifact {d / 'result.json'} (not a result): "
                                   f"{_redo(d).replace('that level', 'that artifact')}")
    return result


def read_artifact(d: Path, theta0: Mapping[str, torch.Tensor], names: list[str]):
    """(masks of `names`, trained weights, result) of the finished artifact `d`; every file is
    checked against θ0 (the run's model) so a corrupt one never reaches training."""
    fix = _redo(d)
    masks = read_tensor_file(d / "masks.safetensors", fix)
    check_state(d / "masks.safetensors", masks, {n: theta0[n] for n in names}, fix, masks=True)
    weights = read_tensor_file(d / "weights.safetensors", fix)
    check_state(d / "weights.safetensors", weights, theta0, fix)
    return {n: masks[n] for n in names}, weights, read_result(d)


def read_init(path: Path, like: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """θ0 of a seed (recomputed from the seed when deleted)."""
    fix = "delete it to recompute it from the seed, then rerun the same command"
    theta0 = read_tensor_file(path, fix)
    check_state(path, theta0, like, fix)
    return theta0


def read_rewind(path: Path, theta0: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """θk of a late-rewinding seed, written while level 0 trains."""
    fix = f"delete it and {path.parent / 'level00'} to retrain level 0, then rerun the same command"
    state = read_tensor_file(path, fix)
    check_state(path, state, theta0, fix)
    return state


def read_supermask(path: Path) -> list:
    rows = read_json_file(path, "delete it to recompute the supermask table, then rerun the same command")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise CorruptArtifactError(f"corrupt lottery artifact {path} (not a list of rows): delete it to "
                                   f"recompute the supermask table, then rerun the same command")
    return rows


__all__ = ["CorruptArtifactError", "RESULT_KEYS", "check_state", "read_artifact", "read_init", "read_json_file",
           "read_extra_result", "read_result", "read_rewind", "read_supermask", "read_tensor_file"]
