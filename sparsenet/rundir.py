"""The one run-directory lifecycle every command uses (train, prune, lottery, reproduce ...).

1. `resolve(cfg, name)`: ``--run-dir DIR`` is the run directory; otherwise it is
   ``--out PARENT`` / ``<name>-<hash of the config>`` (``<name>-default`` for the defaults).
2. Validate every input first; only then `open_run(...)`, a context manager that
   - refuses a path that is a file, a parent that cannot be written (one line, nothing created);
   - creates the directory and takes an OS lock on ``DIR/.lock`` (``fcntl.flock``, released by the
     kernel when the process ends, even by SIGKILL) for the whole run: a second writer is refused
     with one line naming the directory and the pid that holds it;
   - writes ``config.json`` on a fresh directory; a directory that already holds a run is
     refused unless the config says ``resume`` (``--resume``), and then its recorded config must
     agree on every key except `NOT_COMPARED` (and the command's own ``may_change`` keys);
   - when the run fails before it wrote anything but its config, removes the directory it
     created, so a refused input leaves nothing behind;
   - turns Ctrl-C into `Interrupted`, which names the directory to continue with ``--resume``.

``--resume`` means the same on every command: continue the run in its directory (finished parts,
levels, points and checkpoints are reused; a finished run just returns its results). On a
directory that holds no run yet it starts the run.
"""
from __future__ import annotations

import errno
import fcntl
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import io
from .config import HASH_EXCLUDE, config_to_dict, run_name
from .errors import SparsenetError

VERSION = "0.1.0"
LOCK_NAME = ".lock"
# Keys that say where or how a run happens, not what it computes: they may differ between a run
# and its --resume, and they are left out of the run directory's name.
# Where and how a run happens, not what it computes. threads and device can change the last bits of
# floating-point results (torch's dense kernels reduce in a thread-dependent order; our CSR kernels do
# not), so a run resumed with other threads or on another device is continued, not refused, and is
# bit-identical to an uninterrupted one only with the same threads and device.
# `execution` changes how a step is computed, not what (the same weights within float tolerance):
# it names no run and a run may be resumed under another one.
NOT_COMPARED = ("resume", "progress", "out", "run_dir", "data_dir", "threads", "device", "report", "figure",
                "execution")


# The same help for the same flag on every command.
OUT_HELP = "parent directory of run directories (the run directory is named from the config: NAME-<hash>)"
RUN_DIR_HELP = "explicit run directory (instead of one named under --out)"
RESUME_HELP = ("continue the run in its directory (a killed run goes on from its last checkpoint or finished "
               "part; a finished one just reports); without it a directory holding a run is refused")


class RunDirError(SparsenetError):
    """A run directory that cannot be used: a file, unwritable, in use, or holding another run."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run; `run_dir` is the directory to continue with ``--resume``."""

    def __init__(self, run_dir: Path):
        super().__init__(str(run_dir))
        self.run_dir = Path(run_dir)


def name_exclude(extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(dict.fromkeys(HASH_EXCLUDE + NOT_COMPARED + tuple(extra)))


def resolve(cfg, name: str, *, exclude: tuple[str, ...] = (), tags: tuple[str, ...] = (),
            bare_default: bool = False) -> Path:
    """The run directory of `cfg`: its ``run_dir``, else ``out / <name>-<hash>``.

    `tags`: boolean keys that, when true, are spelled into the name instead of the hash
    (``seed-figure-quick``); `bare_default`: the all-default config is ``out / <name>`` rather than
    ``<name>-default`` (the reproductions: ``runs/seed-figure``, ``runs/second-order-quick``)."""
    explicit = getattr(cfg, "run_dir", None)
    if explicit:
        return Path(explicit)
    prefix = "-".join([name] + [t.replace("_", "-") for t in tags if getattr(cfg, t)])
    named = run_name(prefix, cfg, name_exclude(exclude + tags))
    if bare_default and named.endswith("-default"):
        named = prefix
    return Path(cfg.out) / named


def command_line() -> str:
    return "sparsenet " + " ".join(sys.argv[1:])


def check_target(path: Path) -> None:
    """Refuse, before any work, a run directory that cannot be created or written."""
    path = Path(path)
    flag = "--run-dir/--out"
    if path.exists() and not path.is_dir():
        raise RunDirError(f"run directory {path} is a file, not a directory; give another {flag} "
                          "(or move the file away)")
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise RunDirError(f"cannot create run directory {path}: {probe} is a file, not a directory; "
                          f"give another {flag}")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        what = "run directory" if probe == path else "directory"
        raise RunDirError(f"cannot write to {what} {probe} (permission denied or read-only); "
                          f"give a writable {flag}")


@dataclass
class RunDir:
    """An open, locked run directory (what `open_run` yields)."""

    path: Path
    experiment: str
    previous: dict | None = None   # the config recorded by an earlier run here, if any
    created: bool = False          # this process created the directory
    same: bool = False             # `previous` agrees with this config (NOT_COMPARED keys aside)
    _lock: Any = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return (self.path / "results.json").is_file()

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def _lock(path: Path):
    f = open(path / LOCK_NAME, "a+", encoding="utf-8")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            f.close()
            raise
        f.seek(0)
        pid = f.read().strip() or "unknown"
        f.close()
        raise RunDirError(f"run directory {path} is in use by another sparsenet process (pid {pid}); "
                          "wait for it to finish (or stop it), then rerun with --resume") from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def _differences(old: dict, mine: dict, may_change: Callable[[str], bool]) -> list[str]:
    return [k for k in mine if k not in NOT_COMPARED and not may_change(k) and old.get(k) != mine[k]]


def _leftover_only_config(path: Path) -> bool:
    for p in path.iterdir():
        if p.name in (LOCK_NAME, "config.json"):
            continue
        if p.name == "metrics.jsonl" and p.stat().st_size == 0:
            continue
        return False
    return True


def _remove_fresh(path: Path) -> None:
    for name in (LOCK_NAME, "config.json", "metrics.jsonl"):
        try:
            (path / name).unlink()
        except FileNotFoundError:
            pass
    try:
        path.rmdir()
    except OSError:
        pass


class open_run:
    """``with open_run(path, cfg, "train") as rd:`` — see the module docstring.

    `may_change(key)`: config keys that may differ on --resume (e.g. lottery's extras; every key
    for second-order, whose parts carry their own settings). `record`: more fields for
    config.json. Without a ``resume`` field in `cfg`, an existing run is always continued."""

    def __init__(self, path, cfg, experiment: str, *, command: str | None = None,
                 may_change: Callable[[str], bool] = lambda k: False, record: dict | None = None):
        self.path, self.cfg, self.experiment = Path(path), cfg, experiment
        self.command = command or command_line()
        self.may_change, self.record = may_change, dict(record or {})
        self.rd: RunDir | None = None

    def __enter__(self) -> RunDir:
        path = self.path
        check_target(path)
        created = not path.exists()
        path.mkdir(parents=True, exist_ok=True)
        rd = RunDir(path, self.experiment, created=created)
        try:
            rd._lock = _lock(path)
            rd.previous = self._check_config(rd)
            rd.same = rd.previous is not None and not _differences(
                rd.previous, config_to_dict(self.cfg), lambda k: False)
        except BaseException:
            rd.release()
            if created:
                _remove_fresh(path)
            raise
        self.rd = rd
        return rd

    def _check_config(self, rd: RunDir) -> dict | None:
        cfg_path = rd.path / "config.json"
        mine = config_to_dict(self.cfg)
        old = None
        if cfg_path.exists():
            try:
                record = io.read_json(cfg_path)
                old = record.get("config", {}) if isinstance(record, dict) else None
            except (ValueError, UnicodeDecodeError):
                old = None
            if not isinstance(old, dict):
                raise RunDirError(f"{cfg_path} is not a sparsenet config (corrupt or edited); "
                                  "choose another --run-dir/--out, or delete the directory to start over")
            state = "a finished" if rd.finished else "an unfinished"
            diff = _differences(old, mine, self.may_change)
            if diff:
                raise RunDirError(f"run directory {rd.path} holds {state} run whose config differs in "
                                  f"{', '.join(diff)}; choose another --run-dir/--out, or rerun with its "
                                  "settings and --resume to continue it")
            if not getattr(self.cfg, "resume", True):
                raise RunDirError(f"run directory {rd.path} already holds {state} run; pass --resume to "
                                  f"continue it, or choose another --run-dir/--out")
            if old == mine:
                return old
        io.write_json(cfg_path, {"experiment": self.experiment, "config": mine, "version": VERSION,
                                 "command": self.command, **self.record})
        return old

    def __exit__(self, exc_type, exc, tb) -> bool:
        rd = self.rd
        try:
            if exc is not None and rd.created and _leftover_only_config(rd.path):
                rd.release()
                _remove_fresh(rd.path)
        finally:
            rd.release()
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted(rd.path) from None
        return False


def describe_os_error(e: OSError) -> str:
    """One line for a filesystem error: what failed, on which path, and what to do."""
    where = e.filename if e.filename is not None else "a file"
    code = e.errno
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"cannot write {where}: {'read-only file system' if code == errno.EROFS else 'permission denied'}; "
                "choose a writable --out/--run-dir (or fix the directory's permissions)")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return (f"no space left writing {where} ({os.strerror(code).lower()}); free some space or choose "
                "another --out/--run-dir, then rerun with --resume (finished work is kept)")
    if code == errno.EFBIG:
        return (f"file size limit exceeded writing {where} (see `ulimit -f`); raise the limit, then rerun "
                "with --resume (finished work is kept)")
    if code == errno.ENOTDIR:
        return f"{where}: a part of this path is a file, not a directory; give another path"
    if code == errno.EEXIST:
        return f"{where} already exists and is not a directory; give another path (or move it away)"
    if code == errno.EISDIR:
        return f"{where} is a directory, not a file; give a file path"
    if code == errno.ENOENT:
        return f"{where}: no such file or directory"
    return f"{where}: {e.strerror or e}"


__all__ = ["NOT_COMPARED", "OUT_HELP", "RESUME_HELP", "RUN_DIR_HELP", "Interrupted", "RunDir", "RunDirError", "check_target", "command_line",
           "describe_os_error", "name_exclude", "open_run", "resolve"]
