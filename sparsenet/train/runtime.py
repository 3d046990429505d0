"""Where and how a run computes: `--device`, `--threads`, `--seed`, with one meaning on every command.

- ``device``: ``cpu``, ``cuda`` or ``cuda:N``. The model and the data of the run move there; a
  `SparseLinear` on CUDA runs the torch.sparse backend (cuSPARSE), the numba kernels and the fused
  batch-1 engine being CPU-only. Asking for CUDA where there is none is a one-line error.
- ``threads``: torch's intra-op threads *and* the numba kernels' threads for the run (0 leaves
  torch's default). Recorded in results.json (``machine.threads``, ``machine.numba_threads``).
- ``seed``: the run's seed; `apply_runtime` seeds torch's global generator (all devices).

`runtime(...)` is the context manager the commands use: it applies the three and restores the
thread count afterwards, so a library call (``run_train(cfg)`` in a notebook) leaves no trace.

It also flushes denormal floats to zero for the run (``torch.set_flush_denormal(True)``, reset
afterwards): the optimizer state of weights whose gradient stays 0 (dead ReLU units, pruned weights
under Adam) decays geometrically into the denormal range, where x86 arithmetic is many times slower.
Measured on masked LeNet-300-100 training with Adam (half the weights pruned, 1 thread): 3.75 s per
500 steps once the state had decayed, 2.82 s with flushing. Values below ~1.2e-38 become 0, which
changes no result a run reports. Recorded as ``machine.flush_denormal``.

>>> parse_device("cpu")
device(type='cpu')
>>> parse_device("gpu")
Traceback (most recent call last):
...
sparsenet.train.runtime.DeviceError: --device 'gpu' is not a device; use cpu, cuda or cuda:N (e.g. cuda:0)
"""
from __future__ import annotations

import dataclasses
import re
from contextlib import contextmanager
from typing import Iterator

import torch

from ..errors import ConfigError

DEVICE_HELP = "where the run computes: cpu, cuda or cuda:N (needs a CUDA build of torch; see README, Set-up)"
THREADS_HELP = ("torch and numba CPU threads for the run (0 = torch's default); results are bit-identical "
                "only at the same count")
SEED_HELP = "the run's random seed (same seed and --threads -> bit-identical results on CPU)"

_DEVICE = re.compile(r"cpu|cuda(?::(\d+))?")


class DeviceError(ConfigError):
    """A device that is not a device, or not on this machine."""


def check_device_text(text: str) -> str | None:
    """Config check: the spelling only (availability is checked when a run starts, so a config
    written on a GPU machine still reads back on a CPU one)."""
    if not isinstance(text, str) or not _DEVICE.fullmatch(text):
        return "is not a device; use cpu, cuda or cuda:N (e.g. cuda:0)"
    return None


def check_threads(n: int) -> str | None:
    return None if n >= 0 else "must be >= 0 (0 = torch's default)"


def parse_device(text: str | torch.device) -> torch.device:
    """``cpu`` / ``cuda`` / ``cuda:N`` -> torch.device, checked against this machine."""
    if isinstance(text, torch.device):
        text = str(text)
    m = _DEVICE.fullmatch(str(text))
    if m is None:
        raise DeviceError(f"--device {text!r} is not a device; use cpu, cuda or cuda:N (e.g. cuda:0)")
    if m.group(0) == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        why = (f"this torch ({torch.__version__}) is a CPU-only build" if torch.version.cuda is None
               else "torch finds no CUDA device (driver missing or CUDA_VISIBLE_DEVICES empty)")
        raise DeviceError(f"--device {text}: {why}; use --device cpu, or install a CUDA build of torch "
                          f"(README, Set-up)")
    count = torch.cuda.device_count()
    index = int(m.group(1)) if m.group(1) is not None else torch.cuda.current_device()
    if index >= count:
        raise DeviceError(f"--device {text}: this machine has {count} CUDA device(s); "
                          f"use cuda:0..cuda:{count - 1}")
    return torch.device("cuda", index)


def numba_threads() -> int:
    """Threads the numba kernels use: torch's count, capped by numba's pool (NUMBA_NUM_THREADS)."""
    import numba

    return max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))


def set_threads(threads: int) -> None:
    """torch.set_num_threads and numba's thread count (0 = leave both as they are)."""
    if threads < 0:
        raise ConfigError(f"--threads {threads}: must be >= 0 (0 = torch's default)")
    if threads:
        import numba

        # numba first: launching its OpenMP pool resets the OpenMP thread count torch reads
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        torch.set_num_threads(threads)


def apply_runtime(threads: int = 0, device: str | torch.device = "cpu", seed: int | None = None) -> torch.device:
    """Check the device, set the threads, seed torch; returns the run's torch.device."""
    dev = parse_device(device)
    set_threads(threads)
    if seed is not None:
        torch.manual_seed(seed)  # also seeds every CUDA device
    return dev


@contextmanager
def runtime(threads: int = 0, device: str | torch.device = "cpu", seed: int | None = None) -> Iterator[torch.device]:
    """`apply_runtime` for the length of a ``with`` block; torch's thread count is restored after."""
    before = torch.get_num_threads()
    flushing = torch.set_flush_denormal(True)  # False where the CPU cannot (then nothing changed)
    try:
        yield apply_runtime(threads, device, seed)
    finally:
        if flushing:
            torch.set_flush_denormal(False)
        if torch.get_num_threads() != before:
            set_threads(before)


def dataset_to(data, device: str | torch.device):
    """A `sparsenet.data.Dataset` (or any dataclass of ``x_train``/``y_train``/``x_test``/``y_test``)
    with its four tensors on `device` (the same object when they are there already)."""
    keys = ("x_train", "y_train", "x_test", "y_test")
    if all(getattr(data, k).device == torch.device(device) for k in keys):
        return data
    return dataclasses.replace(data, **{k: getattr(data, k).to(device) for k in keys})


def runtime_info(device: str | torch.device | None = None) -> dict:
    """What results.json records about threads and device (merged into `machine_info`)."""
    info = {"threads": torch.get_num_threads(), "numba_threads": numba_threads(),
            "flush_denormal": bool(torch.tensor([1e-40]).mul(1.0).item() == 0.0)}
    if device is not None:
        dev = torch.device(device)
        info["device"] = str(dev)
        if dev.type == "cuda":
            info["gpu"] = torch.cuda.get_device_name(dev)
            info["cuda"] = torch.version.cuda
    return info


__all__ = ["DEVICE_HELP", "THREADS_HELP", "SEED_HELP", "DeviceError", "apply_runtime", "check_device_text", "dataset_to",
           "check_threads", "numba_threads", "parse_device", "runtime", "runtime_info", "set_threads"]
