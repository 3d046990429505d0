"""Atomic file writes: a result is either fully written or not there at all.

Each writer writes to a temporary file in the same directory, fsyncs it and renames it over
the target (rename is atomic on POSIX), so a run killed at any instant never leaves a torn file.
Files are created with mode 0666 minus the process umask (0644 under umask 022, 0664 under 002),
like any file a program opens for writing, so results on a shared filesystem stay readable.

Write failures (disk full, file-size limit, read-only directory) are plain `OSError`s naming the
target; the CLI turns them into one line. Reading a torch or safetensors file that is truncated or
not what it should be raises `CorruptFileError` naming the file and the fix.
"""
from __future__ import annotations

import errno
import io as _bytes_io
import json
import os
import pickle
import re
import secrets
import warnings
import zipfile
from pathlib import Path
from typing import Any, Callable

import torch

from .errors import SparsenetError


class CorruptFileError(SparsenetError):
    """A file the run needs is truncated, corrupt or of the wrong kind."""


def _open_temp(path: Path) -> str:
    """Create an empty temporary file next to `path`, mode 0666 & ~umask (mkstemp would give 0600)."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path))


def _atomic(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _open_temp(path)
    mode = os.stat(tmp).st_mode & 0o777  # 0666 & ~umask, as the kernel applied it
    try:
        write(tmp)
        if os.stat(tmp).st_mode & 0o777 != mode:  # a writer that replaced the file (safetensors: 0600)
            os.chmod(tmp, mode)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        _remove(tmp)
        if e.filename is None or str(e.filename) == tmp:  # name the target, not the temporary
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise
    except BaseException:
        _remove(tmp)
        raise
    return path


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def write_bytes(path, data: bytes) -> Path:
    def w(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    return _atomic(path, w)


def write_text(path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def read_json(path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def torch_save(path, obj: Any) -> Path:
    """`torch.save` atomically; load back with `torch_load` (weights_only=True).

    Serialised in memory first: torch's own file writer reports a full disk or a file-size limit
    as a RuntimeError without the cause, a Python write as the OSError it is."""
    buf = _bytes_io.BytesIO()
    torch.save(obj, buf)
    return write_bytes(path, buf.getvalue())


_CORRUPT = (pickle.UnpicklingError, EOFError, RuntimeError, zipfile.BadZipFile, ValueError, KeyError,
            AttributeError, IndexError, TypeError, UnicodeDecodeError)


def torch_load(path, *, fix: str = "delete it and rerun to recompute it") -> Any:
    """`torch.load(weights_only=True)`; a file that does not load is a `CorruptFileError` saying
    `fix`. Torch's own text is not passed on (it may suggest unsafe loading)."""
    try:
        with warnings.catch_warnings():  # a damaged file can make torch warn (an odd pickle
            warnings.simplefilter("ignore", UserWarning)  # protocol) before it fails: one line only
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        why = ("it holds objects other than tensors and plain containers, which are never loaded"
               if "unsupported global" in str(e).lower() else "truncated or not a torch checkpoint")
    except _CORRUPT:
        why = "truncated or not a torch checkpoint"
    raise CorruptFileError(f"{path} cannot be read ({why}); {fix}") from None


def save_tensors(path, tensors: dict[str, torch.Tensor]) -> Path:
    """Save a flat dict of tensors as safetensors, atomically (bool masks are supported)."""
    from safetensors.torch import save_file

    flat = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}

    def w(tmp):
        try:
            save_file(flat, tmp)
        except Exception as e:  # SafetensorError wraps the OS error in its text
            code = re.search(r"os error (\d+)", str(e))
            if type(e).__name__ != "SafetensorError" or code is None:
                raise
            n = int(code.group(1))
            raise OSError(n, os.strerror(n), str(path)) from None

    return _atomic(path, w)


def load_tensors(path, *, fix: str = "delete it and rerun to recompute it") -> dict[str, torch.Tensor]:
    """Load a safetensors file; a truncated or foreign file is a `CorruptFileError` saying `fix`."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except FileNotFoundError:
        raise
    except Exception as e:
        if type(e).__name__ != "SafetensorError" and not isinstance(e, (ValueError, RuntimeError)):
            raise
    raise CorruptFileError(f"{path} cannot be read (truncated or not a safetensors file); {fix}") from None


def _json_default(o):
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, torch.Tensor) and o.numel() == 1:
        return o.item()
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
