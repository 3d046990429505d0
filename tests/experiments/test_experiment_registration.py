"""Adding an experiment edits no table: the `hello` experiment of docs/extending.md (its
`command.py` and its `hello_report.py`, read from the doc) is put on the search paths of
`sparsenet.experiments` and `sparsenet.report`; discovery finds both, `sparsenet --help` lists the
command, it runs, and `sparsenet report` dispatches to its report. cli.py is not touched."""
import re
import sys
from pathlib import Path

import pytest

import sparsenet.experiments as experiments
import sparsenet.report as report
from sparsenet.cli import main
from sparsenet.experiments.registry import COMMANDS, REPRODUCTIONS, discover
from sparsenet.report import REPORTS, discover_reports

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "extending.md"


def doc_files() -> dict[str, str]:
    """The doc's ```py blocks, each headed by a comment naming its file."""
    blocks = re.findall(r"```py\n# (sparsenet/\S+)\n(.*?)```", DOC.read_text(), re.S)
    return dict(blocks)


@pytest.fixture
def hello(tmp_path, monkeypatch):
    files = doc_files()
    assert set(files) == {"sparsenet/experiments/hello/command.py", "sparsenet/report/hello_report.py"}
    assert "hello" not in COMMANDS and "hello" not in REPORTS  # (reads, so the real entries are discovered)
    for rel, code in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    (tmp_path / "sparsenet/experiments/hello/__init__.py").write_text('"""a toy experiment"""\n')
    monkeypatch.setattr(experiments, "__path__", [*experiments.__path__, str(tmp_path / "sparsenet/experiments")])
    monkeypatch.setattr(report, "__path__", [*report.__path__, str(tmp_path / "sparsenet/report")])
    monkeypatch.chdir(tmp_path)
    yield
    COMMANDS._items.pop("hello", None)
    REPORTS._items.pop("hello", None)
    for mod in ("sparsenet.experiments.hello.command", "sparsenet.experiments.hello", "sparsenet.report.hello_report"):
        sys.modules.pop(mod, None)
    vars(experiments).pop("hello", None)  # the submodule attributes the imports set on the packages
    vars(report).pop("hello_report", None)


def test_a_new_experiment_package_and_report_module_are_discovered(hello, capsys):
    assert "sparsenet.experiments.hello.command" in discover()
    assert "sparsenet.report.hello_report" in discover_reports()
    assert "hello" in COMMANDS.names() and "hello" in REPORTS.names()

    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert re.search(r"^\s+hello\s+greet someone and write a run directory$", out, re.M), out

    assert main(["hello", "--name", "sparse", "--out", "runs/hi"]) == 0
    assert capsys.readouterr().out == "hello sparse -> runs/hi\n"
    assert main(["report", "runs/hi"]) == 0
    assert capsys.readouterr().out == "runs/hi/report.md\n"
    assert Path("runs/hi/report.md").read_text() == "# hello sparse\n"


def test_discovery_registers_nothing_twice():
    before = (COMMANDS.names(), REPRODUCTIONS.names(), REPORTS.names())
    discover()
    discover_reports()
    assert (COMMANDS.names(), REPRODUCTIONS.names(), REPORTS.names()) == before


def test_every_experiment_command_and_report_kind_comes_from_its_own_module():
    # the shipped commands and report kinds are registered by their packages, not by a table in
    # cli.py or report/__init__.py: neither file names one of them
    framework = {"reproduce", "report", "data"}
    src = (ROOT / "sparsenet/cli.py").read_text() + (ROOT / "sparsenet/report/__init__.py").read_text()
    names = (set(COMMANDS.names()) - framework) | set(REPRODUCTIONS.names()) | set(REPORTS.names())
    assert {"train", "prune", "lottery", "bench", "seed-figure", "second-order"} <= names
    named = sorted(n for n in names if f'"{n}"' in src)
    assert not named, f"cli.py / report/__init__.py still list {named}"
    for name in set(COMMANDS.names()) - framework:
        run = COMMANDS.get(name).run  # (setup may be the shared `config_flags` helper)
        assert run.__module__.startswith("sparsenet.experiments.") and run.__module__.endswith(".command")


def test_building_the_parser_imports_no_training_or_plotting_code():
    # discovery imports each package's light __init__ and command.py (and the configs the flags come
    # from), not the lottery / prune runs, the report writers or matplotlib: `sparsenet --help` stays fast
    import subprocess

    code = ("import sys; from sparsenet.cli import build_parser; build_parser(); "
            "print(' '.join(m for m in sys.modules if m.startswith(('sparsenet.', 'matplotlib'))))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split())
    assert {"sparsenet.experiments.lottery.command", "sparsenet.experiments.prune.config"} <= loaded
    heavy = {"sparsenet.experiments.lottery.run", "sparsenet.experiments.prune.run", "sparsenet.report.plots",
             "sparsenet.report.lottery_report", "matplotlib"}
    assert not loaded & heavy, sorted(loaded & heavy)


def test_an_experiment_package_exports_its_public_names_lazily():
    import sparsenet.experiments.train as train
    from sparsenet.experiments.train import TrainConfig, run_train
    from sparsenet.experiments.train.config import TrainConfig as config_class
    from sparsenet.experiments.train.run import run_train as run_function

    assert (TrainConfig, run_train) == (config_class, run_function)
    assert {"TrainConfig", "run_train", "resolve_run_dir"} <= set(train.__all__)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        train.no_such_name
