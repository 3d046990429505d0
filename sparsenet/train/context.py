"""RunContext: what travels with a run (directory, seed, metrics writer, checkpoints).

Metrics are appended to `metrics.jsonl`; every checkpoint records the file's byte length, so a
resumed run first truncates the file back to that point and the final file equals the one an
uninterrupted run writes (wall-clock fields aside). Checkpoints are written atomically: the file on
disk is always the last complete one.
"""
from __future__ import annotations

import json
import os
import platform
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import io


def machine_info(device: str | torch.device | None = None) -> dict:
    """CPU model, torch threads, torch and Python versions and the date: recorded with every number.
    With `device`: also the numba threads and the device (and GPU name) of the run."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"cpu": cpu, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}
    if device is not None:
        from .runtime import runtime_info

        info.update(runtime_info(device))
    return info


@dataclass
class RunContext:
    out_dir: Path
    seed: int = 0
    progress: bool = True
    checkpoint_name: str = "checkpoint.pt"
    _metrics_file: Any = field(default=None, repr=False)

    def __post_init__(self):
        self.out_dir = Path(self.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        kill = os.environ.get("SPARSENET_TEST_KILL_AT_STEP")
        self.kill_at_step = int(kill) if kill else None  # fault injection for the resume tests

    # ---- metrics --------------------------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        return self.out_dir / "metrics.jsonl"

    def log(self, record: dict) -> None:
        if self._metrics_file is None:
            self._metrics_file = open(self.metrics_path, "a", encoding="utf-8")
        self._metrics_file.write(json.dumps(record) + "\n")
        self._metrics_file.flush()

    def metrics_offset(self) -> int:
        if self._metrics_file is not None:
            self._metrics_file.flush()
            os.fsync(self._metrics_file.fileno())
        return self.metrics_path.stat().st_size if self.metrics_path.exists() else 0

    def truncate_metrics(self, offset: int) -> None:
        self.close()
        if self.metrics_path.exists():
            with open(self.metrics_path, "r+b") as f:
                f.truncate(offset)

    def close(self) -> None:
        if self._metrics_file is not None:
            self._metrics_file.close()
            self._metrics_file = None

    # ---- checkpoints ----------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / self.checkpoint_name

    def save_checkpoint(self, state: dict) -> None:
        state = dict(state, metrics_offset=self.metrics_offset())
        io.torch_save(self.checkpoint_path, state)

    def load_checkpoint(self) -> dict | None:
        if not self.checkpoint_path.exists():
            return None
        return io.torch_load(self.checkpoint_path)

    def maybe_kill(self, step: int) -> None:
        if self.kill_at_step is not None and step >= self.kill_at_step:
            os.kill(os.getpid(), signal.SIGKILL)
