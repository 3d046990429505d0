"""TOML tables name commands; HASH_EXCLUDE lists exactly the keys that do not change a result."""
from __future__ import annotations

import dataclasses

import pytest

from sparsenet.cli import build_parser
from sparsenet.config import HASH_EXCLUDE, build_config, run_name
from sparsenet.errors import ConfigError
from sparsenet.experiments.bench.config import BenchConfig
from sparsenet.experiments.dst.config import DstConfig
from sparsenet.experiments.lottery.config import LotteryConfig
from sparsenet.experiments.prune.config import PruneConfig
from sparsenet.experiments.search.config import SearchConfig
from sparsenet.experiments.second_order.config import SecondOrderConfig
from sparsenet.experiments.seed_figure.config import SeedFigureConfig
from sparsenet.experiments.train.run import resolve_run_dir
from sparsenet.experiments.train.config import TrainConfig


CONFIGS = (TrainConfig, PruneConfig, LotteryConfig, BenchConfig, SeedFigureConfig, SecondOrderConfig, DstConfig,
           SearchConfig)


@pytest.fixture(autouse=True)
def cli_tables():
    build_parser()  # records which command reads which table, as `sparsenet` does before parsing


def write(tmp_path, text):
    path = tmp_path / "recipe.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_another_commands_table_names_that_command_in_one_line(tmp_path):
    path = write(tmp_path, '[prune]\nmodel = "mlp"\nspec = "64-16-10"\n')
    with pytest.raises(ConfigError) as e:
        build_config(TrainConfig, toml_path=path)
    msg = str(e.value)
    assert msg == (f"{path} has a [prune] table but no [train] table: run `sparsenet prune --config {path}`, "
                   "or put the keys for this command under [train]")
    assert "'mlp'" not in msg  # the dict itself is not printed


def test_several_tables_of_other_commands_are_all_named(tmp_path):
    path = write(tmp_path, "[prune]\nseed = 1\n[lottery]\nseed = 2\n")
    with pytest.raises(ConfigError, match=r"has a \[prune\] and \[lottery\] tables but no \[train\] table: run "
                                          r"`sparsenet prune --config .*` or `sparsenet lottery --config .*`"):
        build_config(TrainConfig, toml_path=path)


def test_reproductions_tables_name_the_reproduce_command(tmp_path):
    path = write(tmp_path, "[seed-figure]\nquick = true\n")
    with pytest.raises(ConfigError, match=r"run `sparsenet reproduce seed-figure --config "):
        build_config(TrainConfig, toml_path=path)


@pytest.mark.parametrize("table, close", [("trian", "train"), ("prnue", "prune"), ("lotery", "lottery")])
def test_a_misspelt_table_is_matched_against_table_names_not_keys(tmp_path, table, close):
    path = write(tmp_path, f"[{table}]\nseed = 1\n")
    with pytest.raises(ConfigError) as e:
        build_config(TrainConfig, toml_path=path)
    msg = str(e.value)
    assert msg.startswith(f"unknown table [{table}] in {path} (did you mean [{close}]?)")
    assert "[train] (sparsenet train)" in msg and "n_train" not in msg


def test_a_misspelt_table_beside_the_commands_own_is_refused_an_unrelated_one_ignored(tmp_path):
    typo = write(tmp_path, "[train]\nseed = 1\n[prnue]\nseed = 2\n")
    with pytest.raises(ConfigError, match=r"unknown table \[prnue\].*did you mean \[prune\]"):
        build_config(TrainConfig, toml_path=typo)
    other = write(tmp_path, "[train]\nseed = 1\n[prune]\nseed = 2\n[notes]\nauthor = 'x'\n")
    assert build_config(TrainConfig, toml_path=other).seed == 1


def test_unknown_key_inside_the_table_is_matched_against_field_names(tmp_path):
    path = write(tmp_path, "[train]\nn_trian = 5\n")
    with pytest.raises(ConfigError, match=r"unknown key 'n_trian' .*did you mean 'n_train'"):
        build_config(TrainConfig, toml_path=path)


def test_every_recipe_reads_with_its_own_command_and_is_refused_by_the_others():
    from pathlib import Path

    recipes = sorted((Path(__file__).parents[2] / "recipes").glob("*.toml"))
    assert recipes
    from sparsenet.config import load_toml, section_name

    by_table = {section_name(c): c for c in CONFIGS}
    for path in recipes:
        if "sweep" in load_toml(path):  # a sweep file: only `sparsenet sweep` reads it
            with pytest.raises(ConfigError, match=rf"is a sweep file .*run `sparsenet sweep --config {path}`"):
                build_config(TrainConfig, toml_path=path)
            continue
        (table,) = [t for t in load_toml(path) if t in by_table]
        build_config(by_table[table], toml_path=path)
        with pytest.raises(ConfigError, match=rf"but no \[train\] table: run `sparsenet {table} --config"):
            build_config(TrainConfig, toml_path=path)


# ---------------------------------------------------------------------------------- hashing
def test_every_hash_excluded_key_exists_in_some_config():
    fields = {f.name for cls in CONFIGS for f in dataclasses.fields(cls)}
    assert [k for k in HASH_EXCLUDE if k not in fields] == []


def test_where_and_how_a_run_shows_does_not_change_its_name():
    base = TrainConfig(lr=0.5)
    same = dataclasses.replace(base, progress=False, resume=True, out="elsewhere", data_dir="/d")
    assert run_name("train", same) == run_name("train", base) != "train-default"
    assert run_name("train", TrainConfig(progress=False)) == "train-default"
    assert run_name("train", dataclasses.replace(base, lr=0.25)) != run_name("train", base)


def test_no_progress_flag_gives_the_same_run_directory():
    parser = build_parser()
    argv = ["train", "--lr", "0.5", "--out", "runs"]
    with_bar = build_config(TrainConfig, parser.parse_args(argv))
    without = build_config(TrainConfig, parser.parse_args(argv + ["--no-progress"]))
    assert without.progress is False
    assert resolve_run_dir(without) == resolve_run_dir(with_bar)
