"""The CLI's refusal contract, checked the same way everywhere: exit 2, one line that starts with
"sparsenet: error:" and names the bad value, and no run directory made."""
from pathlib import Path

from sparsenet.cli import main


def assert_refused(argv: list[str], run_dir: Path, capsys, needle: str) -> str:
    """Run `argv` with ``--run-dir run_dir``; assert the refusal; return the error line."""
    rc = main(argv + ["--run-dir", str(run_dir)])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("sparsenet: error:")
    assert needle in err
    assert not Path(run_dir).exists()
    return err
