"""`sparsenet prune --init-from FILE`: the dense starting weights from an earlier run.

Accepted forms, each holding the tensors of the model's ``state_dict``:

* ``dense.pt`` of a prune run, or any torch file of a dict with a ``"model"`` state_dict;
* a plain state_dict saved with ``torch.save(model.state_dict(), path)``;
* ``model.safetensors`` (of ``sparsenet train``; its SparseLinear layers save as dense weights).

Torch files are read with ``weights_only=True`` (never unpickling code). A file for another
architecture is refused in one line naming the first parameter that differs, its shape in the
file and in the model, and, when the file's weights form an MLP chain, the ``--spec`` that fits.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ... import io
from ...errors import ConfigError

FORMS = "the dense.pt of a prune run, a model.safetensors or a torch.save(model.state_dict()) file"


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The state_dict held by `path` in any of the accepted forms; one-line errors otherwise."""
    path = Path(path)
    where = f"--init-from {path}"
    if not path.is_file():
        raise ConfigError(f"{where}: no such file; give {FORMS}")
    fix = f"give {FORMS}"
    try:
        if _is_safetensors(path):
            return io.load_tensors(path, fix=fix)
        obj = io.torch_load(path, fix=fix)
    except io.CorruptFileError as e:
        raise ConfigError(f"--init-from {e}") from None
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        what = type(obj).__name__ if not isinstance(obj, dict) else "a dict that is not a state_dict"
        raise ConfigError(f"{where} holds {what}, not model weights; {fix}")
    return obj


def _is_safetensors(path: Path) -> bool:
    """By content: 8 bytes of header length, then the JSON header ('{')."""
    if path.suffix == ".safetensors":
        return True
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b"{" and not head.startswith(b"PK")


def _chain_spec(sd: dict[str, torch.Tensor]) -> str | None:
    """``784-250-90-10`` when the file's ``layers.N.weight`` form an MLP chain, else None."""
    shapes, n = [], 0
    while f"layers.{n}.weight" in sd:
        shapes.append(tuple(sd[f"layers.{n}.weight"].shape))
        n += 1
    if not shapes or any(len(s) != 2 for s in shapes):
        return None
    if any(a[0] != b[1] for a, b in zip(shapes, shapes[1:])):
        return None
    return "-".join(str(x) for x in [shapes[0][1]] + [s[0] for s in shapes])


def load_init(model: nn.Module, path: str | Path, model_text: str) -> None:
    """Load the weights of `path` into `model`; `model_text` names the model on the command
    line (``--model mlp --spec 784-300-100-10``) for the message when they do not match."""
    sd = read_state_dict(path)
    own = model.state_dict()
    spec = _chain_spec(sd)
    fits = f" (the file's layers fit --model mlp --spec {spec})" if spec else ""
    fix = f"pass the --model/--spec the file was trained with{fits}"
    for name, t in own.items():
        if name not in sd:
            raise ConfigError(f"--init-from {path} has no {name} (shape {tuple(t.shape)} in {model_text}); {fix}")
        if tuple(sd[name].shape) != tuple(t.shape):
            raise ConfigError(f"--init-from {path}: {name} has shape {tuple(sd[name].shape)} in the file but "
                              f"{tuple(t.shape)} in {model_text}; {fix}")
    extra = [k for k in sd if k not in own]
    if extra:
        raise ConfigError(f"--init-from {path} holds {extra[0]}, which {model_text} has not; {fix}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in sd.items()})


__all__ = ["FORMS", "load_init", "read_state_dict"]
