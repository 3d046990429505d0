"""Every registered command (and reproduction): ``--help`` exits 0 and shows its usage; an unknown
flag ends in exit status 2 with exactly one line on stderr and no traceback."""
import pytest

from sparsenet.cli import main


def check_argv(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: sparsenet " + " ".join(argv)), out[:200]


def check_bad_flag(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as e:
        main([*argv, "--no-such-flag", "1"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sparsenet: error: "), err
    assert "Traceback" not in err
    return err


def test_command_help_and_bad_flag(command, capsys):
    check_argv([command], capsys)
    check_bad_flag([command], capsys)


def test_reproduction_help_and_bad_flag(reproduction, capsys):
    check_argv(["reproduce", reproduction], capsys)
    assert "--no-such-flag" in check_bad_flag(["reproduce", reproduction], capsys)

