"""A script of bad inputs, each run as a user would (`python -m sparsenet ...` in a subprocess).

Every case must end with exit status 2 and exactly one stderr line that starts with
``sparsenet: error:`` and names the bad value, no traceback, and, when the input is refused
before any work, no run directory. The cases run two at a time in one fixture (a process start
costs a few seconds of CPU, mostly importing torch), then each is checked by its own test.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
TRAIN = ["train", "--dataset", "synthetic", "--spec", "64-16-10", "--steps", "20", "--burnin-steps", "10",
         "--no-progress"]
PRUNE = ["prune", "--dataset", "synthetic", "--model", "mlp", "--spec", "64-16-10", "--n-train", "300",
         "--train-steps", "20", "--no-progress"]
LOTTERY = ["lottery", "--dataset", "synthetic", "--model", "mlp", "--spec", "64-16-10", "--n-train", "400",
           "--n-val", "0", "--steps", "10", "--eval-every", "5", "--levels", "1", "--controls", "",
           "--supermask-criteria", "", "--no-progress", "--no-report"]


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]  # "{files}" is the prepared input directory, "{run}" this case's lottery run
    needles: tuple[str, ...]  # each must appear in the error line
    before_work: bool = True  # refused before any work: --out must stay empty
    lottery: str | None = None  # corrupt a copy of the finished lottery run this way first


CASES = [
    # flags (argparse and typed config; test_experiments_cli_errors.py runs more of these in-process)
    Case("unknown-flag", (*TRAIN, "--bogus"), ("--bogus",)),
    Case("flag-value-type", (*TRAIN, "--steps", "many"), ("--steps many",)),
    Case("negative-lr", (*TRAIN, "--lr", "-1"), ("--lr -1",)),
    # feasibility: every pruned layer keeps a weight
    Case("sparsity-empties-a-layer", (*TRAIN, "--rule", "sparsity", "--sparsity", "0.999999"),
         ("--sparsity 0.999999", "keeps 0 of the 1024 weights of layers.0.weight", "--sparsity <= 0.999")),
    Case("global-budget-below-layers", (*TRAIN, "--spec", "64-16-16-10", "--rule", "budget", "--budget", "1",
                                        "--scope", "global"), ("--budget 1", "--budget >= 2")),
    Case("prune-sparsity-empties-a-layer", (*PRUNE, "--sparsities", "0.5,0.999999"),
         ("--sparsities 0.999999", "keeps 0 of")),
    # TOML
    Case("toml-missing", (*TRAIN, "--config", "{files}/nope.toml"), ("nope.toml", "No such file")),
    Case("toml-malformed", (*TRAIN, "--config", "{files}/malformed.toml"), ("malformed.toml", "malformed TOML")),
    Case("toml-of-another-command", (*TRAIN, "--config", "{files}/prune.toml"),
         ("has a [prune] table but no [train] table", "`sparsenet prune --config")),
    Case("toml-misspelt-table", (*TRAIN, "--config", "{files}/trian.toml"),
         ("unknown table [trian]", "did you mean [train]?")),
    Case("toml-misspelt-key", (*TRAIN, "--config", "{files}/key.toml"), ("'n_trian'", "did you mean 'n_train'")),
    # prune --init-from
    Case("init-from-wrong-architecture", (*PRUNE, "--init-from", "{files}/wide.pt"),
         ("layers.0.weight", "(32, 64) in the file", "(16, 64) in --model mlp --spec 64-16-10",
          "--spec 64-32-10")),
    Case("init-from-random-bytes", (*PRUNE, "--init-from", "{files}/junk.pt"), ("junk.pt", "cannot be read")),
    Case("init-from-not-weights", (*PRUNE, "--init-from", "{files}/list.pt"), ("list.pt", "not model weights")),
    # lottery artifacts read back on a rerun
    Case("lottery-truncated-masks", (*LOTTERY, "--run-dir", "{run}"),
         ("level01/ticket/masks.safetensors", "delete", "to recompute that level"), False, "truncate-masks"),
    Case("lottery-masks-of-another-model", (*LOTTERY, "--run-dir", "{run}"),
         ("level01/ticket/masks.safetensors", "shape"), False, "foreign-masks"),
    Case("lottery-garbled-result", (*LOTTERY, "--run-dir", "{run}"),
         ("level01/ticket/result.json", "not valid JSON", "to recompute that level"), False, "garble-result"),
]


def _prepare_files(d: Path) -> None:
    from sparsenet.models import build_model

    d.mkdir()
    (d / "malformed.toml").write_text("[train\nlr = 0.1\n")
    (d / "prune.toml").write_text('[prune]\nmodel = "mlp"\nspec = "64-16-10"\n')
    (d / "trian.toml").write_text("[trian]\nsteps = 3\n")
    (d / "key.toml").write_text("[train]\nn_trian = 5\n")
    torch.save(build_model("mlp", spec="64-32-10", in_features=64, num_classes=10).state_dict(), d / "wide.pt")
    (d / "junk.pt").write_bytes(os.urandom(256))
    torch.save([1, 2, 3], d / "list.pt")


def _corrupt(run: Path, how: str) -> None:
    ticket = run / "seed0" / "level01" / "ticket"
    (run / "results.json").unlink()  # else the finished run is returned without reading artifacts
    if how == "truncate-masks":
        data = (ticket / "masks.safetensors").read_bytes()
        (ticket / "masks.safetensors").write_bytes(data[: len(data) // 3])
    elif how == "foreign-masks":
        from safetensors.torch import save_file

        save_file({"layers.0.weight": torch.ones(3, 3, dtype=torch.bool),
                   "layers.1.weight": torch.ones(10, 3, dtype=torch.bool)}, str(ticket / "masks.safetensors"))
    elif how == "garble-result":
        (ticket / "result.json").write_text('{"seed": 0, "level": 1,')


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore", MPLBACKEND="Agg")
    python = str(PYTHON) if PYTHON.exists() else sys.executable
    return subprocess.run([python, "-m", "sparsenet", *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    from sparsenet.cli import main

    base = tmp_path_factory.mktemp("bad_inputs")
    files = base / "files"
    _prepare_files(files)
    lottery = base / "lottery"
    assert main([*LOTTERY, "--run-dir", str(lottery)]) == 0
    jobs = {}
    for case in CASES:
        out = base / case.id / "out"
        run = base / case.id / "run"
        if case.lottery:
            shutil.copytree(lottery, run)
            _corrupt(run, case.lottery)
        argv = [a.replace("{files}", str(files)).replace("{run}", str(run)) for a in case.argv]
        if case.lottery:
            argv.append("--resume")  # continuing the run is what reads its artifacts back
        if "--run-dir" not in argv:
            argv += ["--out", str(out)]
        jobs[case.id] = (argv, out)
    lr = base / "lr" / "out"
    jobs["lr-warning"] = ([*TRAIN, "--lr", "1e6", "--steps", "100", "--log-every", "20", "--out", str(lr)], lr)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {k: pool.submit(_run, argv, base) for k, (argv, _) in jobs.items()}
        return {k: (f.result(), jobs[k][1]) for k, f in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_line_exit_2_and_no_run_directory(case, outcomes):
    proc, out = outcomes[case.id]
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(err.splitlines()) == 1, err
    assert err.startswith("sparsenet: error: ")
    for needle in case.needles:
        assert needle in err, (needle, err)
    if case.before_work:
        assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


def test_a_run_at_chance_accuracy_warns_on_stderr_in_results_and_in_the_report(outcomes):
    proc, out = outcomes["lr-warning"]
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("sparsenet: warning: ")]
    assert len(warnings) == 1, proc.stderr
    assert "at chance level" in warnings[0] and "training loss rose" in warnings[0] and "--lr" in warnings[0]
    (run_dir,) = out.iterdir()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["warnings"] == [warnings[0].removeprefix("sparsenet: warning: ")]
    assert results["warnings"][0] in (run_dir / "report.md").read_text()
