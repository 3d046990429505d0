"""SweepConfig: how a sweep runs (`sparsenet sweep` flags and the sweep file's ``[sweep]`` table).

What a sweep computes (the experiment, its fixed keys and the varied ones) is the sweep file's other
tables, read by `sparsenet.experiments.sweep.spec`; these settings say where and how.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...config import non_negative, option, positive
from ...rundir import OUT_HELP, RUN_DIR_HELP

EXECUTORS = ("local", "ray")
# settings that may change when a sweep is rerun: they change where and how trials run, not what
MAY_CHANGE = ("executor", "address", "max_concurrent", "threads_per_trial", "retries", "trial_reports", "progress")


@dataclass(frozen=True)
class SweepConfig:
    experiment: str = option("", help="the experiment every trial runs: train, prune, lottery, dst or a "
                                      "reproduction's name (usually set in the sweep file)")
    name: str = option("", help="the sweep's name: its directory is OUT/sweep-NAME (default: sweep-EXPERIMENT-<hash>)")
    executor: str = option("local", help="local: a process pool on this machine; ray: Ray tasks on a cluster "
                                         "(pip install 'sparsenet[ray]')", choices=EXECUTORS)
    address: str | None = option(None, help="Ray cluster to join: auto (the one this machine belongs to) or "
                                            "HOST:PORT; none starts a Ray instance on this machine (--executor ray)")
    max_concurrent: int | None = option(None, help="trials running at once (default: the CPUs / --threads-per-trial)",
                                        check=positive)
    threads_per_trial: int | None = option(None, help="torch and numba threads of each trial, and the CPUs Ray "
                                                      "reserves for it (default: the CPUs / --max-concurrent, "
                                                      "at least 1)", check=positive)
    retries: int = option(1, help="times a crashed trial is run again before it is reported failed (a trial "
                                  "refused for bad input is not retried)", check=non_negative)
    trial_reports: bool = option(False, help="also write each trial's own report.md and figures (sparsenet "
                                             "report TRIAL_DIR does it later)")
    out: str = option("runs", help=OUT_HELP.replace("run directory", "trials' run directories and the sweep's")
                      .replace("NAME-<hash>", "EXPERIMENT-<hash>, as by hand"))
    run_dir: str | None = option(None, help=RUN_DIR_HELP.replace("run directory", "sweep directory") +
                                 "; the trials still go under --out")
    progress: bool = option(True, help="show a progress bar over trials on a terminal")
    resume: bool = option(True, help="continue the sweep in its directory, keeping finished trials (the "
                                     "default); --no-resume refuses a directory that holds a sweep")
