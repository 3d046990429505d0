"""RunContext: what travels with a run (directory, seed, metrics writer, checkpoints).

Metrics are appended to `metrics.jsonl`; every checkpoint records the file's byte length, so a
resumed run first truncates the file back to that point and the final file equals the one an
uninterrupted run writes (wall-clock fields aside). Checkpoints are written atomically: the file on
disk is always the last complete one, and the one before it is kept as `<name>.prev` (a checkpoint
damaged later, e.g. by a disk fault, can be deleted to resume from that one).

`Segments` records the training time of each process run of a resumable run ("segment"): a run
killed and resumed reports the steps and seconds of each segment, and a total that counts every
step once (the steps redone after the kill are counted in the segment that kept them).
"""
from __future__ import annotations

import json
import os
import platform
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

    @property
    def previous_checkpoint_path(self) -> Path:
        return self.out_dir / (self.checkpoint_name + ".prev")

    def save_checkpoint(self, state: dict) -> None:
        state = dict(state, metrics_offset=self.metrics_offset())
        if self.checkpoint_path.exists():
            os.replace(self.checkpoint_path, self.previous_checkpoint_path)
        io.torch_save(self.checkpoint_path, state)

    def load_checkpoint(self) -> dict | None:
        """The last checkpoint; when only the previous one is left (the last was deleted because it
        was damaged), that one. A checkpoint that does not load is a one-line CorruptFileError."""
        path, prev = self.checkpoint_path, self.previous_checkpoint_path
        if not path.exists():
            path = prev
            if not path.exists():
                return None
        if path == prev:
            fix = "delete it too to restart the run from its beginning"
        elif prev.exists():
            fix = (f"delete it and rerun with --resume to continue from the previous checkpoint {prev.name}, "
                   "or delete both to restart the run from its beginning")
        else:
            fix = "delete it and rerun with --resume to restart the run from its beginning"
        state = io.torch_load(path, fix=fix)
        if not isinstance(state, dict) or "metrics_offset" not in state:
            raise io.CorruptFileError(f"{path} is not a sparsenet checkpoint; {fix}")
        return state

    def remove_checkpoints(self) -> None:
        for p in (self.checkpoint_path, self.previous_checkpoint_path):
            if p.exists():
                p.unlink()


class Segments:
    """Training time per segment (one process run) of a resumable run.

    `previous`: the segments recorded in the checkpoint being resumed. The current segment is
    {"seconds", "steps", "machine"}; `records(seconds, steps)` is the list to checkpoint when the
    current segment has done `seconds`/`steps` more than `add` recorded so far. Work done after
    the last checkpoint of a killed segment is in no record: it is redone, and counted, once.
    """

    def __init__(self, previous: list[dict] | None = None, machine: dict | None = None):
        self.previous = [dict(s) for s in previous or []]
        plain = json.loads(json.dumps(machine or machine_info(), default=str))  # checkpoints hold plain types
        self.current = {"seconds": 0.0, "steps": 0, "machine": plain}

    def add(self, seconds: float, steps: int) -> None:
        self.current["seconds"] += seconds
        self.current["steps"] += steps

    def records(self, seconds: float = 0.0, steps: int = 0) -> list[dict]:
        now = dict(self.current, seconds=round(self.current["seconds"] + seconds, 6),
                   steps=self.current["steps"] + steps)
        return self.previous + [now]

    @staticmethod
    def total(records: list[dict]) -> float:
        return sum(s["seconds"] for s in records)
