"""The sweep's journal: one JSON line per trial event (started, done, refused, crashed, kept), appended
and flushed to disk by the driver as each happens.

It is what a rerun knows beyond the trials' own run directories: attempts so far and the errors of
failed trials. A line cut short by a killed driver is ignored on reading; nothing else is lost.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, **event) -> None:
        event = {"time": round(time.time(), 3), **event}
        line = json.dumps(event, sort_keys=True, default=str) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def events(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a killed driver
                if isinstance(event, dict) and "trial" in event:
                    out.append(event)
        return out

    def attempts(self) -> dict[str, int]:
        """Trial id -> attempts started so far (all runs of this sweep)."""
        n: dict[str, int] = {}
        for e in self.events():
            if e.get("event") == "started":
                n[e["trial"]] = n.get(e["trial"], 0) + 1
        return n
