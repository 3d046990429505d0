"""Flags and TOML generated from one dataclass: parsing, precedence and every user error."""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Literal

import pytest

from sparsenet.config import (
    add_arguments,
    all_positive,
    build_config,
    in_unit_interval_open_right,
    load_toml,
    non_negative,
    option,
    positive,
    probability_open,
    section_name,
)
from sparsenet.errors import ConfigError

DATASETS: list[str] = []  # filled after the parser is built, like a lazily imported registry


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = option("fashion-mnist", help="dataset name", choices=lambda: DATASETS)
    lr: float = option(0.01, help="learning rate", check=positive)
    batch_size: int = option(64, help="examples per step", check=positive)
    widths: tuple[int, ...] = option((16, 32), help="hidden widths", check=all_positive)
    tags: tuple[str, ...] = option((), help="free-form labels")
    resume: bool = option(False, help="resume from the last checkpoint")
    data_dir: str | None = option(None, help="where the data lives")
    sparsity: float | None = option(None, help="fraction of weights removed",
                                    check=in_unit_interval_open_right)
    optimizer: Literal["sgd", "adam"] = option("sgd", help="optimizer")
    momentum: float = option(0.9, help="SGD momentum", check=probability_open)
    seed: int = option(0, help="random seed", check=non_negative)
    internal: int = option(7, help="set from TOML only", cli=False)


@pytest.fixture(autouse=True)
def registry():
    DATASETS[:] = ["fashion-mnist", "mnist"]
    yield
    DATASETS.clear()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train")
    add_arguments(p, TrainConfig)
    return p


def build(argv=(), **kw) -> TrainConfig:
    return build_config(TrainConfig, parser().parse_args(list(argv)), **kw)


def write(tmp_path, text, name="cfg.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------ flags
def test_no_flags_gives_the_declared_defaults():
    assert build() == TrainConfig()
    assert build().widths == (16, 32) and build().data_dir is None


def test_flag_names_are_kebab_case_and_values_are_typed():
    cfg = build(["--lr", "0.5", "--batch-size", "8", "--data-dir", "/data", "--optimizer", "adam"])
    assert (cfg.lr, cfg.batch_size, cfg.data_dir, cfg.optimizer) == (0.5, 8, "/data", "adam")
    assert type(cfg.batch_size) is int and type(cfg.lr) is float


def test_an_int_is_accepted_for_a_float_flag():
    cfg = build(["--lr", "1"])
    assert cfg.lr == 1.0 and type(cfg.lr) is float


def test_flags_default_to_a_sentinel_so_untyped_flags_are_absent():
    ns = parser().parse_args(["--lr", "0.5"])
    assert "lr" in vars(ns) and "batch_size" not in vars(ns) and "resume" not in vars(ns)


def test_cli_false_field_has_no_flag():
    with pytest.raises(SystemExit):
        parser().parse_args(["--internal", "3"])


@pytest.mark.parametrize("argv, expected", [([], False), (["--resume"], True), (["--no-resume"], False)])
def test_bool_flags_both_ways(argv, expected):
    assert build(argv).resume is expected


@pytest.mark.parametrize("argv", [
    ["--widths", "16,32,64"],
    ["--widths", "16", "32", "64"],
    ["--widths", "16", "--widths", "32,64"],
    ["--widths", " 16, 32 ,64"],
])
def test_tuple_flags_comma_separated_or_repeated(argv):
    assert build(argv).widths == (16, 32, 64)


def test_tuple_of_strings_and_the_empty_tuple():
    assert build(["--tags", "a,b", "c"]).tags == ("a", "b", "c")
    assert build(["--widths", ""]).widths == ()


@pytest.mark.parametrize("flag, field", [("--data-dir", "data_dir"), ("--sparsity", "sparsity")])
def test_none_on_the_cli_means_none(flag, field):
    assert getattr(build([flag, "none"]), field) is None
    assert getattr(build(["--data-dir", "/d", "--sparsity", "0.5", flag, "none"]), field) is None


def test_optional_float_parses_a_number():
    assert build(["--sparsity", "0.75"]).sparsity == 0.75


def test_help_shows_help_text_defaults_and_lazily_filled_choices():
    p = parser()
    DATASETS.append("cifar10")  # registered after the parser was built
    text = " ".join(p.format_help().split())
    assert "--lr FLOAT learning rate (default: 0.01)" in text
    assert "--widths INT [INT ...] hidden widths (default: 16,32)" in text
    assert "--resume, --no-resume resume from the last checkpoint (default: false)" in text
    assert "--data-dir STR where the data lives (default: none)" in text
    assert "(choices: fashion-mnist, mnist, cifar10)" in text
    assert "--optimizer {sgd,adam}" in text
    assert "--config FILE.toml" in text


# ---------------------------------------------------------------------------- precedence
def test_precedence_defaults_then_toml_then_flags_then_overrides(tmp_path):
    path = write(tmp_path, "lr = 0.1\nbatch_size = 32\nseed = 5\nwidths = [8]\n")
    cfg = build(["--config", str(path), "--batch-size", "16", "--seed", "6"], overrides={"seed": 7})
    assert cfg.momentum == 0.9  # default
    assert cfg.lr == 0.1 and cfg.widths == (8,)  # TOML
    assert cfg.batch_size == 16  # flag beats TOML
    assert cfg.seed == 7  # override beats flag


def test_toml_path_argument_is_below_the_config_flag(tmp_path):
    base = write(tmp_path, "lr = 0.1\nseed = 1\n", "base.toml")
    user = write(tmp_path, "seed = 2\n", "user.toml")
    cfg = build(["--config", str(user)], toml_path=base)
    assert (cfg.lr, cfg.seed) == (0.1, 2)
    assert build_config(TrainConfig, toml_path=base).seed == 1


def test_a_flag_equal_to_the_default_still_beats_the_toml(tmp_path):
    path = write(tmp_path, "resume = true\nlr = 0.5\n")
    cfg = build(["--config", str(path), "--no-resume", "--lr", "0.01"])
    assert cfg.resume is False and cfg.lr == 0.01


def test_toml_keys_under_the_command_table_win_and_other_tables_are_ignored(tmp_path):
    assert section_name(TrainConfig) == "train"
    path = write(tmp_path, 'seed = 3\nlr = 0.5\n[train]\nlr = 0.2\n[prune]\nsparsity = 0.9\nbogus = 1\n')
    cfg = build_config(TrainConfig, toml_path=path)
    assert (cfg.seed, cfg.lr, cfg.sparsity) == (3, 0.2, None)


def test_toml_types_tuples_bools_and_the_none_string(tmp_path):
    path = write(tmp_path, 'widths = [4, 5]\ntags = ["x"]\nresume = true\nlr = 2\n'
                           'data_dir = "none"\ninternal = 9\n')
    cfg = build_config(TrainConfig, toml_path=path)
    assert cfg.widths == (4, 5) and cfg.tags == ("x",) and cfg.resume is True
    assert cfg.lr == 2.0 and type(cfg.lr) is float
    assert cfg.data_dir is None and cfg.internal == 9


def test_config_is_frozen():
    cfg = build()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("argv, message", [
    (["--lr", "abc"], r"^invalid --lr abc: expected a float$"),
    (["--batch-size", "1.5"], r"^invalid --batch-size 1\.5: expected an integer$"),
    (["--widths", "1,x"], r"^invalid --widths 1,x: expected a list of integers \(x is not an integer\)$"),
    (["--widths", "1,,2"], r"invalid --widths 1,,2: .*empty entry"),
    (["--lr", "0"], r"^invalid --lr 0: must be > 0$"),
    (["--batch-size", "0"], r"^invalid --batch-size 0: must be a positive integer$"),
    (["--seed", "-1"], r"^invalid --seed -1: must be a non-negative integer$"),
    (["--widths", "16,0"], r"^invalid --widths 16,0: every entry must be a positive integer$"),
    (["--momentum", "1"], r"^invalid --momentum 1: must be in \(0, 1\)$"),
    (["--sparsity", "1"], r"^invalid --sparsity 1: sparsity is the fraction of weights removed, must be in \[0, 1\)$"),
    (["--sparsity", "-0.1"], r"invalid --sparsity -0\.1: sparsity is the fraction"),
    (["--dataset", "cifar"], r"^invalid --dataset cifar: must be one of fashion-mnist, mnist$"),
    (["--optimizer", "rmsprop"], r"^invalid --optimizer rmsprop: expected one of sgd, adam$"),
])
def test_bad_flag_values_name_the_flag_the_value_and_the_fix(argv, message):
    with pytest.raises(ConfigError, match=message):
        build(argv)


@pytest.mark.parametrize("line, message", [
    ('lr = "abc"', r'invalid lr = "abc" in .*cfg\.toml: expected a float'),
    ('widths = [1, "x"]', r'invalid widths = \[1, "x"\] in .*cfg\.toml: expected a list of integers \("x" is not an integer\)'),
    ("widths = 16", r"invalid widths = 16 in .*: expected a list of integers"),
    ("batch_size = true", r"invalid batch_size = true in .*: expected an integer"),
    ("batch_size = 8.0", r"invalid batch_size = 8\.0 in .*: expected an integer"),
    ("resume = 1", r"invalid resume = 1 in .*: expected a boolean"),
    ("data_dir = 3", r"invalid data_dir = 3 in .*: expected a string or none"),
    ("lr = 0", r"invalid lr = 0 in .*cfg\.toml: must be > 0"),
    ('dataset = "cifar"', r'invalid dataset = "cifar" in .*: must be one of fashion-mnist, mnist'),
    ("sparsity = 1.0", r"invalid sparsity = 1\.0 in .*: sparsity is the fraction of weights removed"),
])
def test_bad_toml_values_name_the_key_the_value_and_the_file(tmp_path, line, message):
    path = write(tmp_path, line + "\n")
    with pytest.raises(ConfigError, match=message):
        build(["--config", str(path)])


def test_unknown_toml_key_names_key_file_and_lists_valid_keys(tmp_path):
    path = write(tmp_path, "learning_rate = 0.1\n")
    with pytest.raises(ConfigError) as e:
        build_config(TrainConfig, toml_path=path)
    msg = str(e.value)
    assert "unknown key 'learning_rate'" in msg and str(path) in msg
    assert "valid keys: dataset, lr, batch_size, widths, tags, resume, data_dir, sparsity" in msg
    assert "[train]" in msg


def test_unknown_key_suggests_the_close_one(tmp_path):
    path = write(tmp_path, "[train]\ndata-dir = '/d'\n")
    with pytest.raises(ConfigError, match=r"unknown key 'data-dir'.*did you mean 'data_dir'"):
        build_config(TrainConfig, toml_path=path)


def test_a_misspelled_command_table_is_an_unknown_table_matched_against_table_names(tmp_path):
    path = write(tmp_path, "[trian]\nlr = 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown table \[trian\] .*\(did you mean \[train\]\?\)") as e:
        build_config(TrainConfig, toml_path=path)
    assert "n_train" not in str(e.value)


def test_unknown_override_and_bad_override(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'lrr'.*valid keys: dataset, lr"):
        build_config(TrainConfig, overrides={"lrr": 1})
    with pytest.raises(ConfigError, match=r"^invalid --lr 0: must be > 0$"):
        build_config(TrainConfig, overrides={"lr": 0})
    with pytest.raises(ConfigError, match=r"invalid --batch-size true: expected an integer"):
        build_config(TrainConfig, overrides={"batch_size": True})


def test_missing_toml_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"cannot read config file .*nope\.toml: No such file"):
        build(["--config", str(path)])


def test_malformed_toml_names_file_and_parse_error_on_one_line(tmp_path):
    path = write(tmp_path, "lr = 0.1\nwidths = [1, 2\nseed = 3\n")
    with pytest.raises(ConfigError) as e:
        load_toml(path)
    msg = str(e.value)
    assert msg.startswith(f"malformed TOML in config file {path}: ") and "line" in msg
    assert "\n" not in msg


def test_unreadable_toml(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot read config file"):
        load_toml(tmp_path)  # a directory
    path = tmp_path / "bin.toml"
    path.write_bytes(b"lr = '\xff'\n")
    with pytest.raises(ConfigError, match=r"malformed TOML in config file .*bin\.toml"):
        load_toml(path)


# ----------------------------------------------------------------- cross-field validation
@dataclass(frozen=True)
class RangeConfig:
    start: int = option(0, help="first epoch")
    stop: int = option(10, help="last epoch")
    target: float = option(0.5, help="target sparsity")

    def validate(self):
        if self.stop <= self.start:
            raise ConfigError(f"--stop {self.stop} must be greater than --start {self.start}")


def test_validate_hook_runs_after_construction(tmp_path):
    p = argparse.ArgumentParser()
    add_arguments(p, RangeConfig)
    assert build_config(RangeConfig, p.parse_args(["--start", "3"])).start == 3
    with pytest.raises(ConfigError, match=r"--stop 2 must be greater than --start 3"):
        build_config(RangeConfig, p.parse_args(["--start", "3", "--stop", "2"]))
    path = write(tmp_path, "start = 20\n")
    with pytest.raises(ConfigError, match=r"--stop 10 must be greater than --start 20"):
        build_config(RangeConfig, toml_path=path)


@dataclass(frozen=True)
class Required:
    name: str = option(help="experiment name")
    n: int = option(1, help="count")


def test_required_field_must_be_given():
    with pytest.raises(ConfigError, match=r"missing required option --name"):
        build_config(Required)
    assert build_config(Required, overrides={"name": "x"}).name == "x"


def test_check_that_raises_is_reported_like_one_that_returns():
    def even(v):
        if v % 2:
            raise ValueError("must be even")

    @dataclass(frozen=True)
    class Even:
        n: int = option(2, help="an even number", check=even)

    with pytest.raises(ConfigError, match=r"^invalid --n 3: must be even$"):
        build_config(Even, overrides={"n": 3})


def test_definition_errors_are_caught_early():
    @dataclass
    class NotFrozen:
        lr: float = option(0.1, help="lr")

    @dataclass(frozen=True)
    class Unsupported:
        shape: dict = option({}, help="no dicts")

    with pytest.raises(TypeError, match="frozen=True"):
        add_arguments(argparse.ArgumentParser(), NotFrozen)
    with pytest.raises(TypeError, match=r"Unsupported\.shape: unsupported type"):
        build_config(Unsupported)


def test_subcommands_each_build_their_own_config():
    @dataclass(frozen=True)
    class PruneConfig:
        sparsity: float = option(0.9, help="fraction removed", check=in_unit_interval_open_right)
        lr: float = option(0.1, help="fine-tune learning rate", check=positive)

    p = argparse.ArgumentParser(prog="sparsenet")
    sub = p.add_subparsers(dest="command", required=True)
    add_arguments(sub.add_parser("train"), TrainConfig)
    add_arguments(sub.add_parser("prune"), PruneConfig)
    assert section_name(PruneConfig) == "prune"
    ns = p.parse_args(["prune", "--sparsity", "0.5"])
    assert build_config(PruneConfig, ns) == PruneConfig(sparsity=0.5)
    ns = p.parse_args(["train", "--lr", "0.3"])
    assert build_config(TrainConfig, ns) == TrainConfig(lr=0.3)


def test_section_name_is_the_kebab_case_class_name_without_config():
    class LotteryTicketConfig:
        pass

    assert section_name(LotteryTicketConfig) == "lottery-ticket"
